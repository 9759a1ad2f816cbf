/** GitHub and GitHub Enterprise Server. GHES: set the API base to `https://<host>/api/v3`. */

import type { ForgeDriver } from '../types.js';
import { verifyHmacSha256 } from '../verify.js';
import { parseGitHub } from './parse.js';
import { GITHUB_LIMITS, postGitHubStatus } from './status.js';

export const githubDriver: ForgeDriver = {
  kind: 'github',
  displayName: 'GitHub',
  defaultApiBaseUrl: 'https://api.github.com',
  limits: GITHUB_LIMITS,
  tagShaMayBeTagObject: false,
  verify(request, secrets) {
    verifyHmacSha256(request, secrets, {
      header: 'X-Hub-Signature-256',
      prefix: 'sha256=',
      host: 'GitHub',
    });
  },
  parse: parseGitHub,
  postCommitStatus: postGitHubStatus,
  // Installation and Actions tokens authenticate as this fixed user; PATs accept any name.
  cloneAuth: () => ({ scheme: 'basic', username: 'x-access-token' }),
};
