import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostApiError } from '../../src/errors.js';
import { forgejoDriver, giteaDriver } from '../../src/forge/gitea/index.js';
import type { CommitStatus, HostApi, StatusTarget } from '../../src/forge/types.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';

const TOKEN = 'gitea_token_4c1d9e0f';
const SHA = '4522cbcefc20728a5b72b3a86af35e608622c514';
const target: StatusTarget = { repo: { fullName: 'alice/home-scripts', id: null }, sha: SHA };
const status: CommitStatus = {
  state: 'success',
  context: 'codebuild/home-scripts',
  description: 'BUILD succeeded after 1m04s',
  targetUrl: 'https://console.example/build/2',
};

let recorder: HttpRecorder;
let clock: FakeClock;
let api: HostApi;
beforeEach(async () => {
  recorder = await startHttpRecorder();
  clock = fakeClock();
  // The instance root, as configured for Gitea and Forgejo (e.g. https://codeberg.org).
  api = { baseUrl: `${recorder.url}/api/v1`, token: TOKEN, fetch, clock: wholeMs(clock) };
});
afterEach(() => recorder.close());

/**
 * requestWithRetry hands `deadline - now` to AbortSignal.timeout, which refuses fractions; a
 * wall clock never yields one, but a fake clock sleeping a jittered back-off does.
 */
function wholeMs(inner: FakeClock): FakeClock {
  return { ...inner, sleep: (ms, signal) => inner.sleep(Math.ceil(ms), signal) };
}

describe.each([giteaDriver, forgejoDriver])('$displayName commit status', (driver) => {
  it('posts the status with the documented method, path, headers and body', async () => {
    await driver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request).toMatchObject({
      method: 'POST',
      path: `/api/v1/repos/alice/home-scripts/statuses/${SHA}`,
    });
    expect(request!.headers).toMatchObject({
      authorization: `token ${TOKEN}`,
      'content-type': 'application/json',
    });
    expect(JSON.parse(request!.body)).toEqual({
      state: 'success',
      target_url: 'https://console.example/build/2',
      description: 'BUILD succeeded after 1m04s',
      context: 'codebuild/home-scripts',
    });
  });

  it('surfaces a 401 at once, without retrying and without the token', async () => {
    recorder.answer({ status: 401, body: { message: 'token is required' } });
    const error = await driver.postCommitStatus(api, target, status).catch((e) => e);
    expect(error).toBeInstanceOf(HostApiError);
    expect(error).toMatchObject({ host: driver.displayName, status: 401, unauthorized: true });
    expect(error.message).toContain('token is required');
    expect(error.message).not.toContain(TOKEN);
    expect(recorder.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});

describe('Gitea commit status', () => {
  it('maps every state to one Gitea knows, running to pending and canceled to error', async () => {
    const states = ['pending', 'running', 'success', 'failure', 'error', 'canceled'] as const;
    for (const state of states)
      await giteaDriver.postCommitStatus(api, target, { ...status, state });
    expect(recorder.requests.map((r) => JSON.parse(r.body).state)).toEqual([
      'pending',
      'pending',
      'success',
      'failure',
      'error',
      'error',
    ]);
  });

  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    recorder.answer({ status: 429, headers: { 'retry-after': '3' } }, { status: 201, body: {} });
    await giteaDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('retries a 500 three times, then succeeds', async () => {
    recorder.answer({ status: 500 }, { status: 500 }, { status: 500 }, { status: 201, body: {} });
    await giteaDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3);
  });

  it('cuts the description to 255 characters', async () => {
    await giteaDriver.postCommitStatus(api, target, { ...status, description: 'é'.repeat(400) });
    expect([...JSON.parse(recorder.requests[0]!.body).description]).toHaveLength(255);
  });
});
