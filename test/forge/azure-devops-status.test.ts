import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostApiError } from '../../src/errors.js';
import { azureDevOpsDriver } from '../../src/forge/azure-devops/index.js';
import type { CommitStatus, HostApi, StatusTarget } from '../../src/forge/types.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';

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

let recorder: HttpRecorder;
let clock: FakeClock;
let api: HostApi;
beforeEach(async () => {
  recorder = await startHttpRecorder();
  clock = fakeClock();
  api = { baseUrl: recorder.url, token: PAT, fetch, clock: wholeMs(clock) };
});
afterEach(() => recorder.close());

/**
 * requestWithRetry hands `deadline - now` to AbortSignal.timeout, which refuses fractions; a
 * wall clock never yields one, but a fake clock sleeping a jittered back-off does.
 */
function wholeMs(inner: FakeClock): FakeClock {
  return { ...inner, sleep: (ms, signal) => inner.sleep(Math.ceil(ms), signal) };
}

describe('Azure DevOps commit status', () => {
  it('posts the status with the documented method, path, headers and body', async () => {
    await azureDevOpsDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/contoso/Web%20Shop/_apis/git/repositories/${REPO_ID}/commits/${SHA}/statuses?api-version=7.1`,
    });
    expect(request!.headers).toMatchObject({
      authorization: `Basic ${Buffer.from(`:${PAT}`).toString('base64')}`,
      'content-type': 'application/json',
    });
    expect(JSON.parse(request!.body)).toEqual({
      state: 'failed',
      description: 'BUILD failed: make exited 2 after 3m12s',
      targetUrl: 'https://console.example/build/3',
      context: { name: 'storefront-ci', genre: 'codebuild' },
    });
  });

  it('maps every state to one Azure knows, canceled to error', async () => {
    const states = ['pending', 'running', 'success', 'failure', 'error', 'canceled'] as const;
    for (const state of states) {
      await azureDevOpsDriver.postCommitStatus(api, target, { ...status, state });
    }
    expect(recorder.requests.map((r) => JSON.parse(r.body).state)).toEqual([
      'pending',
      'pending',
      'succeeded',
      'failed',
      'error',
      'error',
    ]);
  });

  it('gives a context without a slash the default genre', async () => {
    await azureDevOpsDriver.postCommitStatus(api, target, { ...status, context: 'storefront' });
    expect(JSON.parse(recorder.requests[0]!.body).context).toEqual({
      name: 'storefront',
      genre: 'codebuild-run',
    });
  });

  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    recorder.answer({ status: 429, headers: { 'retry-after': '12' } }, { status: 201, body: {} });
    await azureDevOpsDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([12_000]);
  });

  it('retries a 500 three times, then succeeds', async () => {
    recorder.answer({ status: 500 }, { status: 500 }, { status: 500 }, { status: 201, body: {} });
    await azureDevOpsDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3);
  });

  it('surfaces a 401 at once, without retrying and without the token', async () => {
    recorder.answer({ status: 401, body: 'Access Denied: the personal access token has expired' });
    const error = await azureDevOpsDriver.postCommitStatus(api, target, status).catch((e) => e);
    expect(error).toBeInstanceOf(HostApiError);
    expect(error).toMatchObject({ host: 'Azure DevOps', status: 401, unauthorized: true });
    expect(error.message).not.toContain(PAT);
    expect(recorder.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('needs the repository id, and says so before calling', async () => {
    const noId = { ...target, repo: { ...target.repo, id: null } };
    await expect(azureDevOpsDriver.postCommitStatus(api, noId, status)).rejects.toThrow(
      'none is known for contoso/Web Shop/storefront',
    );
    expect(recorder.requests).toHaveLength(0);
  });

  it('authenticates git with the PAT as a Basic password and an empty user name', () => {
    expect(azureDevOpsDriver.cloneAuth()).toEqual({ scheme: 'basic', username: '' });
  });
});
