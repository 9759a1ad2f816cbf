import { describe, expect, it } from 'vitest';
import { forgejoDriver, giteaDriver } from '../../src/forge/gitea/index.js';
import type { CommitStatus, StatusTarget } from '../../src/forge/types.js';
import { describeStatusContract, useStatusHost } from './status-contract.js';

const TOKEN = 'gitea_token_4c1d9e0f';
const SHA = '4522cbcefc20728a5b72b3a86af35e608622c514';
const target: StatusTarget = { repo: { fullName: 'alice/home-scripts', id: null }, sha: SHA };
const status: CommitStatus = {
  state: 'success',
  context: 'codebuild/home-scripts',
  description: 'BUILD succeeded after 1m04s',
  targetUrl: 'https://console.example/build/2',
};
// The API under the instance root, as configured for Gitea and Forgejo (e.g. https://codeberg.org).
const hostOptions = { apiBasePath: '/api/v1', token: TOKEN, stored: { status: 201, body: {} } };

for (const driver of [giteaDriver, forgejoDriver]) {
  describeStatusContract({
    ...hostOptions,
    driver,
    target,
    status,
    requestPath: `/api/v1/repos/alice/home-scripts/statuses/${SHA}`,
    errorBody: { message: 'internal server error' },
    unauthorized: { body: { message: 'token is required' }, hostMessage: 'token is required' },
    stateWords: {
      pending: 'pending',
      running: 'pending',
      success: 'success',
      failure: 'failure',
      error: 'error',
      canceled: 'error',
    },
  });
}

describe.each([giteaDriver, forgejoDriver])('$displayName commit status', (driver) => {
  const host = useStatusHost(driver, hostOptions);

  it('posts the status with the documented method, path, headers and body', async () => {
    const { request, body } = await host.postOnce(target, status);
    expect(request).toMatchObject({
      method: 'POST',
      path: `/api/v1/repos/alice/home-scripts/statuses/${SHA}`,
    });
    expect(request.headers).toMatchObject({
      authorization: `token ${TOKEN}`,
      'content-type': 'application/json',
    });
    expect(body).toEqual({
      state: 'success',
      target_url: 'https://console.example/build/2',
      description: 'BUILD succeeded after 1m04s',
      context: 'codebuild/home-scripts',
    });
  });
});

describe('Gitea commit status', () => {
  const host = useStatusHost(giteaDriver, hostOptions);

  it('cuts the description to 255 characters', async () => {
    const long = { ...status, description: 'é'.repeat(400) };
    const { body } = await host.postOnce(target, long);
    expect([...(body.description as string)]).toHaveLength(255);
  });
});
