import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostApiError } from '../../src/errors.js';
import { bitbucketDcDriver } from '../../src/forge/bitbucket-dc/index.js';
import type { CommitStatus, HostApi, StatusTarget } from '../../src/forge/types.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';

const TOKEN = 'dc-http-access-token';
const SHA = '178864a7d521b6f5e720b386b2c2b0ef8563e0dc';
const target: StatusTarget = { repo: { fullName: 'PAY/payments-api', id: '84' }, sha: SHA };
const status: CommitStatus = {
  state: 'success',
  context: 'codebuild/payments-api',
  description: 'BUILD succeeded in 4m02s',
  targetUrl: 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/1/projects/pay/build/x',
};

let recorder: HttpRecorder;
let clock: FakeClock;
let api: HostApi;

/**
 * The fake clock advances by the fractional back-off it is asked to sleep, and
 * requestWithRetry hands `deadline - now` to AbortSignal.timeout, which refuses fractions
 * (a wall clock never yields one). Sleeping whole milliseconds keeps the fake realistic.
 */
function wholeMs(inner: FakeClock): FakeClock {
  return { ...inner, sleep: (ms, signal) => inner.sleep(Math.ceil(ms), signal) };
}

beforeAll(async () => {
  recorder = await startHttpRecorder();
});
afterAll(() => recorder.close());
beforeEach(() => {
  recorder.requests.length = 0;
  // Bitbucket DC answers 204 No Content when it stored the status.
  recorder.answer({ status: 204 });
  clock = fakeClock();
  api = {
    baseUrl: `${recorder.url}/bitbucket`,
    token: TOKEN,
    fetch: globalThis.fetch,
    clock: wholeMs(clock),
  };
});

async function apiError(promise: Promise<unknown>): Promise<HostApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HostApiError) return error;
    throw error;
  }
  throw new Error('expected a HostApiError');
}

describe('bitbucket data center postCommitStatus', () => {
  it('posts a build status under the repository, with a Bearer token', async () => {
    await bitbucketDcDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(
      `/bitbucket/rest/api/latest/projects/PAY/repos/payments-api/commits/${SHA}/builds`,
    );
    expect(request!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual({
      key: 'codebuild/payments-api',
      state: 'SUCCESSFUL',
      name: 'codebuild/payments-api',
      url: status.targetUrl,
      description: 'BUILD succeeded in 4m02s',
    });
  });

  it('maps every state to Bitbucket Data Center words', async () => {
    const sent: string[] = [];
    for (const state of [
      'pending',
      'running',
      'success',
      'failure',
      'error',
      'canceled',
    ] as const) {
      await bitbucketDcDriver.postCommitStatus(api, target, { ...status, state });
      sent.push(JSON.parse(recorder.requests.at(-1)!.body).state);
    }
    expect(sent).toEqual([
      'INPROGRESS',
      'INPROGRESS',
      'SUCCESSFUL',
      'FAILED',
      'FAILED',
      'CANCELLED',
    ]);
  });

  it('fits key, name and description to 255 characters', async () => {
    const long = 'c'.repeat(300);
    await bitbucketDcDriver.postCommitStatus(api, target, {
      ...status,
      context: long,
      description: long,
    });
    const body = JSON.parse(recorder.requests[0]!.body);
    expect(body.key).toHaveLength(255);
    expect(body.key).toMatch(/-[0-9a-f]{8}$/);
    expect([...body.name]).toHaveLength(255);
    expect([...body.description]).toHaveLength(255);
  });

  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    recorder.answer({ status: 429, headers: { 'retry-after': '12' }, body: {} }, { status: 204 });
    await bitbucketDcDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([12_000]);
  });

  it('retries three 500s with growing back-off, then succeeds', async () => {
    const boom = { status: 500, body: { errors: [{ message: 'An error occurred' }] } };
    recorder.answer(boom, boom, boom, { status: 204 });
    await bitbucketDcDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3);
    clock.sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(250 * 2 ** i);
      expect(ms).toBeLessThanOrEqual(500 * 2 ** i + 1);
    });
  });

  it('surfaces a 401 at once, without retrying', async () => {
    recorder.answer({
      status: 401,
      body: {
        errors: [
          { message: 'Authentication failed. Please check your credentials and try again.' },
        ],
      },
    });
    const error = await apiError(bitbucketDcDriver.postCommitStatus(api, target, status));
    expect(error.status).toBe(401);
    expect(error.hostMessage).toContain('Authentication failed');
    expect(error.message).not.toContain(TOKEN);
    expect(recorder.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });
});
