/** Bitbucket Cloud: signed webhooks, build statuses, x-token-auth clones. */
import type { ForgeDriver } from '../types.js';
import { parseBitbucket } from './parse.js';
import { verifyHubSignature } from './shared.js';
import { BITBUCKET_LIMITS, postBitbucketStatus } from './status.js';

export const bitbucketDriver: ForgeDriver = {
  kind: 'bitbucket',
  displayName: 'Bitbucket Cloud',
  defaultApiBaseUrl: 'https://api.bitbucket.org',
  // A context longer than the 40-character key still fits: the key is derived, the name is whole.
  limits: { description: BITBUCKET_LIMITS.description, context: BITBUCKET_LIMITS.name },
  tagShaMayBeTagObject: false,
  verify: (request, secrets) => verifyHubSignature(request, secrets, 'Bitbucket Cloud'),
  parse: parseBitbucket,
  postCommitStatus: postBitbucketStatus,
  cloneAuth: () => ({ scheme: 'basic', username: 'x-token-auth' }),
};
