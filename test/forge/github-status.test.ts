import { describe, expect, it } from 'vitest';
import { githubDriver } from '../../src/forge/github/index.js';
import type { CommitStatus, StatusTarget } from '../../src/forge/types.js';
import { describeStatusContract, useStatusHost } from './status-contract.js';

const TOKEN = 'ghs_test_token_0123456789';
const SHA = '199eddf46df50de8d02e99bf1c5fdb4101338224';
const target: StatusTarget = { repo: { fullName: 'octo-org/widgets', id: null }, sha: SHA };
const status: CommitStatus = {
  state: 'running',
  context: 'codebuild/widgets-ci',
  description: 'BUILD running',
  targetUrl: 'https://console.example/build/1',
};
// A GHES-style base with a path, to show the path is kept.
const hostOptions = { apiBasePath: '/api/v3', token: TOKEN, stored: { status: 201, body: {} } };

describeStatusContract({
  ...hostOptions,
  driver: githubDriver,
  target,
  status,
  requestPath: `/api/v3/repos/octo-org/widgets/statuses/${SHA}`,
  errorBody: { message: 'Server Error' },
  unauthorized: { body: { message: 'Bad credentials' }, hostMessage: 'Bad credentials' },
  stateWords: {
    pending: 'pending',
    running: 'pending',
    success: 'success',
    failure: 'failure',
    error: 'error',
    canceled: 'error',
  },
});

describe('GitHub commit status', () => {
  const host = useStatusHost(githubDriver, hostOptions);

  it('posts the status with the documented method, path, headers and body', async () => {
    const { request, body } = await host.postOnce(target, status);
    expect(request).toMatchObject({
      method: 'POST',
      path: `/api/v3/repos/octo-org/widgets/statuses/${SHA}`,
    });
    expect(request.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'content-type': 'application/json',
    });
    expect(body).toEqual({
      state: 'pending',
      target_url: 'https://console.example/build/1',
      description: 'BUILD running',
      context: 'codebuild/widgets-ci',
    });
  });

  it('cuts the description to 140 characters', async () => {
    const long = { ...status, description: 'x'.repeat(300) };
    const sent = (await host.postOnce(target, long)).body.description as string;
    expect([...sent]).toHaveLength(140);
    expect(sent.endsWith('…')).toBe(true);
  });

  it('refuses a repository name that is not owner/name', async () => {
    const bad = { ...target, repo: { fullName: 'just-a-name', id: null } };
    await expect(host.post(bad, status)).rejects.toThrow(
      '"just-a-name" is not a GitHub repository name of the form owner/name',
    );
    expect(host.recorder.requests).toHaveLength(0);
  });

  it('authenticates git as x-access-token', () => {
    expect(githubDriver.cloneAuth()).toEqual({ scheme: 'basic', username: 'x-access-token' });
  });
});
