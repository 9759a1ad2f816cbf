import { describe, expect, it } from 'vitest';
import { bitbucketDcDriver } from '../../src/forge/bitbucket-dc/index.js';
import type { CommitStatus, StatusTarget } from '../../src/forge/types.js';
import { describeStatusContract, useStatusHost } from './status-contract.js';

const TOKEN = 'dc-http-access-token';
const SHA = '178864a7d521b6f5e720b386b2c2b0ef8563e0dc';
const target: StatusTarget = { repo: { fullName: 'PAY/payments-api', id: '84' }, sha: SHA };
const status: CommitStatus = {
  state: 'success',
  context: 'codebuild/payments-api',
  description: 'BUILD succeeded in 4m02s',
  targetUrl: 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/1/projects/pay/build/x',
};
// Bitbucket DC answers 204 No Content when it stored the status.
const hostOptions = { apiBasePath: '/bitbucket', token: TOKEN, stored: { status: 204 } };
const refused = 'Authentication failed. Please check your credentials and try again.';

describeStatusContract({
  ...hostOptions,
  driver: bitbucketDcDriver,
  target,
  status,
  requestPath: `/bitbucket/rest/api/latest/projects/PAY/repos/payments-api/commits/${SHA}/builds`,
  errorBody: { errors: [{ message: 'An error occurred' }] },
  // The host's `errors` list is kept whole, as JSON.
  unauthorized: {
    body: { errors: [{ message: refused }] },
    hostMessage: JSON.stringify([{ message: refused }]),
  },
  stateWords: {
    pending: 'INPROGRESS',
    running: 'INPROGRESS',
    success: 'SUCCESSFUL',
    failure: 'FAILED',
    error: 'FAILED',
    canceled: 'CANCELLED',
  },
});

describe('bitbucket data center postCommitStatus', () => {
  const host = useStatusHost(bitbucketDcDriver, hostOptions);

  it('posts a build status under the repository, with a Bearer token', async () => {
    const { request, body } = await host.postOnce(target, status);
    expect(request.method).toBe('POST');
    expect(request.path).toBe(
      `/bitbucket/rest/api/latest/projects/PAY/repos/payments-api/commits/${SHA}/builds`,
    );
    expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request.headers['content-type']).toBe('application/json');
    expect(body).toEqual({
      key: 'codebuild/payments-api',
      state: 'SUCCESSFUL',
      name: 'codebuild/payments-api',
      url: status.targetUrl,
      description: 'BUILD succeeded in 4m02s',
    });
  });

  it('fits key, name and description to 255 characters', async () => {
    const long = 'c'.repeat(300);
    const oversized = { ...status, context: long, description: long };
    const { body } = await host.postOnce(target, oversized);
    expect(body.key).toHaveLength(255);
    expect(body.key).toMatch(/-[0-9a-f]{8}$/);
    expect([...(body.name as string)]).toHaveLength(255);
    expect([...(body.description as string)]).toHaveLength(255);
  });
});
