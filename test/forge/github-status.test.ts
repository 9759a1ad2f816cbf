import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostApiError } from '../../src/errors.js';
import { githubDriver } from '../../src/forge/github/index.js';
import type { CommitStatus, HostApi, StatusTarget } from '../../src/forge/types.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';

const TOKEN = 'ghs_test_token_0123456789';
const SHA = '199eddf46df50de8d02e99bf1c5fdb4101338224';
const target: StatusTarget = { repo: { fullName: 'octo-org/widgets', id: null }, sha: SHA };
const status: CommitStatus = {
  state: 'running',
  context: 'codebuild/widgets-ci',
  description: 'BUILD running',
  targetUrl: 'https://console.example/build/1',
};

let recorder: HttpRecorder;
let clock: FakeClock;
let api: HostApi;
beforeEach(async () => {
  recorder = await startHttpRecorder();
  clock = fakeClock();
  // A GHES-style base with a path, to show the path is kept.
  api = { baseUrl: `${recorder.url}/api/v3`, token: TOKEN, fetch, clock: wholeMs(clock) };
});
afterEach(() => recorder.close());

/**
 * requestWithRetry hands `deadline - now` to AbortSignal.timeout, which refuses fractions; a
 * wall clock never yields one, but a fake clock sleeping a jittered back-off does.
 */
function wholeMs(inner: FakeClock): FakeClock {
  return { ...inner, sleep: (ms, signal) => inner.sleep(Math.ceil(ms), signal) };
}

describe('GitHub commit status', () => {
  it('posts the status with the documented method, path, headers and body', async () => {
    await githubDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/api/v3/repos/octo-org/widgets/statuses/${SHA}`,
    });
    expect(request!.headers).toMatchObject({
      authorization: `Bearer ${TOKEN}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      'content-type': 'application/json',
    });
    expect(JSON.parse(request!.body)).toEqual({
      state: 'pending',
      target_url: 'https://console.example/build/1',
      description: 'BUILD running',
      context: 'codebuild/widgets-ci',
    });
  });

  it('maps every state to one GitHub knows, canceled to error', async () => {
    const states = ['pending', 'running', 'success', 'failure', 'error', 'canceled'] as const;
    for (const state of states)
      await githubDriver.postCommitStatus(api, target, { ...status, state });
    expect(recorder.requests.map((r) => JSON.parse(r.body).state)).toEqual([
      'pending',
      'pending',
      'success',
      'failure',
      'error',
      'error',
    ]);
  });

  it('cuts the description to 140 characters', async () => {
    await githubDriver.postCommitStatus(api, target, { ...status, description: 'x'.repeat(300) });
    const sent = JSON.parse(recorder.requests[0]!.body).description as string;
    expect([...sent]).toHaveLength(140);
    expect(sent.endsWith('…')).toBe(true);
  });

  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    recorder.answer({ status: 429, headers: { 'retry-after': '7' } }, { status: 201, body: {} });
    await githubDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([7000]);
  });

  it('retries a 500 three times, then succeeds', async () => {
    recorder.answer({ status: 500 }, { status: 500 }, { status: 500 }, { status: 201, body: {} });
    await githubDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3);
    // Exponential from 500 ms with jitter in [50%, 100%].
    clock.sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(250 * 2 ** i);
      expect(ms).toBeLessThanOrEqual(500 * 2 ** i + 1);
    });
  });

  it('surfaces a 401 at once, without retrying and without the token', async () => {
    recorder.answer({ status: 401, body: { message: 'Bad credentials' } });
    const error = await githubDriver.postCommitStatus(api, target, status).catch((e) => e);
    expect(error).toBeInstanceOf(HostApiError);
    expect(error).toMatchObject({
      status: 401,
      hostMessage: 'Bad credentials',
      unauthorized: true,
    });
    expect(error.message).not.toContain(TOKEN);
    expect(recorder.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('refuses a repository name that is not owner/name', async () => {
    const bad = { ...target, repo: { fullName: 'just-a-name', id: null } };
    await expect(githubDriver.postCommitStatus(api, bad, status)).rejects.toThrow(
      '"just-a-name" is not a GitHub repository name of the form owner/name',
    );
    expect(recorder.requests).toHaveLength(0);
  });

  it('authenticates git as x-access-token', () => {
    expect(githubDriver.cloneAuth()).toEqual({ scheme: 'basic', username: 'x-access-token' });
  });
});
