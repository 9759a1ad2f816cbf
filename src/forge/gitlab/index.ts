/** GitLab (gitlab.com and self-managed): shared-token webhooks, commit statuses, oauth2 clones. */
import type { ForgeDriver } from '../types.js';
import { verifySharedToken } from '../verify.js';
import { parseGitLab } from './parse.js';
import { GITLAB_LIMITS, postGitLabStatus } from './status.js';

export const gitlabDriver: ForgeDriver = {
  kind: 'gitlab',
  displayName: 'GitLab',
  defaultApiBaseUrl: 'https://gitlab.com/api/v4',
  limits: GITLAB_LIMITS,
  tagShaMayBeTagObject: false,
  // GitLab signs nothing: it sends the configured secret verbatim in X-Gitlab-Token.
  verify: (request, secrets) =>
    verifySharedToken(request, secrets, { header: 'X-Gitlab-Token', host: 'GitLab' }),
  parse: parseGitLab,
  postCommitStatus: postGitLabStatus,
  cloneAuth: () => ({ scheme: 'basic', username: 'oauth2' }),
};
