import { describe, expect, it } from 'vitest';
import { azureDevOpsDriver } from '../../src/forge/azure-devops/index.js';
import type { CommitStatus, StatusTarget } from '../../src/forge/types.js';
import { describeStatusContract, useStatusHost } from './status-contract.js';

const PAT = 'azdo-pat-6kq2w9x4h1';
const SHA = '9b2f4c6e8a0d1f3b5c7e9a1d3f5b7c9e1a3c5e7f';
const REPO_ID = '3c5a8f1e-2b4d-4e6f-9a1b-7c2d3e4f5a6b';
const target: StatusTarget = {
  repo: { fullName: 'contoso/Web Shop/storefront', id: REPO_ID },
  sha: SHA,
};
const status: CommitStatus = {
  state: 'failure',
  context: 'codebuild/storefront-ci',
  description: 'BUILD failed: make exited 2 after 3m12s',
  targetUrl: 'https://console.example/build/3',
};
const hostOptions = { apiBasePath: '', token: PAT, stored: { status: 201, body: {} } };
const statusesPath = `/contoso/Web%20Shop/_apis/git/repositories/${REPO_ID}/commits/${SHA}/statuses?api-version=7.1`;

describeStatusContract({
  ...hostOptions,
  driver: azureDevOpsDriver,
  target,
  status,
  requestPath: statusesPath,
  errorBody: { message: 'TF400898: An Internal Error Occurred.' },
  // Azure DevOps answers an expired PAT with text, not JSON.
  unauthorized: {
    body: 'Access Denied: the personal access token has expired',
    hostMessage: 'Access Denied: the personal access token has expired',
  },
  stateWords: {
    pending: 'pending',
    running: 'pending',
    success: 'succeeded',
    failure: 'failed',
    error: 'error',
    canceled: 'error',
  },
});

describe('Azure DevOps commit status', () => {
  const host = useStatusHost(azureDevOpsDriver, hostOptions);

  it('posts the status with the documented method, path, headers and body', async () => {
    const { request, body } = await host.postOnce(target, status);
    expect(request).toMatchObject({ method: 'POST', path: statusesPath });
    expect(request.headers).toMatchObject({
      authorization: `Basic ${Buffer.from(`:${PAT}`).toString('base64')}`,
      'content-type': 'application/json',
    });
    expect(body).toEqual({
      state: 'failed',
      description: 'BUILD failed: make exited 2 after 3m12s',
      targetUrl: 'https://console.example/build/3',
      context: { name: 'storefront-ci', genre: 'codebuild' },
    });
  });

  it('gives a context without a slash the default genre', async () => {
    const bare = { ...status, context: 'storefront' };
    const { body } = await host.postOnce(target, bare);
    expect(body.context).toEqual({
      name: 'storefront',
      genre: 'codebuild-run',
    });
  });

  it('needs the repository id, and says so before calling', async () => {
    const noId = { ...target, repo: { ...target.repo, id: null } };
    await expect(host.post(noId, status)).rejects.toThrow(
      'none is known for contoso/Web Shop/storefront',
    );
    expect(host.recorder.requests).toHaveLength(0);
  });

  it('authenticates git with the PAT as a Basic password and an empty user name', () => {
    expect(azureDevOpsDriver.cloneAuth()).toEqual({ scheme: 'basic', username: '' });
  });
});
