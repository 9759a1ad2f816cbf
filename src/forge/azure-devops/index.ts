/** Azure DevOps Services (dev.azure.com) and Server: service hooks with Basic auth, Azure Repos statuses. */
import type { ForgeDriver } from '../types.js';
import { verifySharedToken } from '../verify.js';
import { parseAzureDevOps } from './parse.js';
import { AZURE_DEVOPS_LIMITS, postAzureDevOpsStatus } from './status.js';

export const azureDevOpsDriver: ForgeDriver = {
  kind: 'azure-devops',
  displayName: 'Azure DevOps',
  defaultApiBaseUrl: 'https://dev.azure.com',
  limits: AZURE_DEVOPS_LIMITS,
  tagShaMayBeTagObject: true,
  verify(request, secrets) {
    // Azure signs nothing: the subscription sends the Basic credentials it was given. Each
    // configured secret is `username:password`; the whole header is compared in constant time.
    const expected = secrets.map((secret) =>
      secret ? Buffer.from(secret, 'utf8').toString('base64') : '',
    );
    verifySharedToken(request, expected, {
      header: 'Authorization',
      host: 'Azure DevOps',
      valuePrefix: 'Basic ',
    });
  },
  parse: parseAzureDevOps,
  postCommitStatus: postAzureDevOpsStatus,
  // A PAT is the password of Basic auth with an empty user name, as the status call sends it;
  // Bearer is for Entra ID tokens only, not PATs.
  cloneAuth: () => ({ scheme: 'basic', username: '' }),
};
