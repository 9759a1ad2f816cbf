/** Bitbucket Data Center (self-hosted only): signed webhooks, build statuses, Bearer clones. */
import { verifyHubSignature } from '../bitbucket/shared.js';
import type { ForgeDriver } from '../types.js';
import { parseBitbucketDc } from './parse.js';
import { BITBUCKET_DC_LIMITS, postBitbucketDcStatus } from './status.js';

export const bitbucketDcDriver: ForgeDriver = {
  kind: 'bitbucket-dc',
  displayName: 'Bitbucket Data Center',
  // The instance's own URL, e.g. https://bitbucket.example.com (REST paths are added to it).
  defaultApiBaseUrl: null,
  limits: { description: BITBUCKET_DC_LIMITS.description, context: BITBUCKET_DC_LIMITS.name },
  tagShaMayBeTagObject: true,
  verify: (request, secrets) => verifyHubSignature(request, secrets, 'Bitbucket Data Center'),
  parse: parseBitbucketDc,
  postCommitStatus: postBitbucketDcStatus,
  // HTTP access tokens authenticate as Bearer only; git sends them via http.extraHeader.
  cloneAuth: () => ({ scheme: 'bearer' }),
};
