import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostApiError } from '../../src/errors.js';
import { gitlabDriver } from '../../src/forge/gitlab/index.js';
import type { CommitStatus, HostApi, StatusTarget } from '../../src/forge/types.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';

const TOKEN = 'glpat-test-token';
const SHA = '2adc9465c4edfc33834e173fe89436a7cb899a1d';
const target: StatusTarget = { repo: { fullName: 'acme/platform/api', id: '4861503' }, sha: SHA };
const status: CommitStatus = {
  state: 'failure',
  context: 'codebuild/api-tests',
  description: 'BUILD failed: make exited 2 after 3m12s',
  targetUrl: 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/1/projects/api/build/x',
};

let recorder: HttpRecorder;
let clock: FakeClock;
let api: HostApi;

beforeAll(async () => {
  recorder = await startHttpRecorder();
});
afterAll(() => recorder.close());
beforeEach(() => {
  recorder.requests.length = 0;
  recorder.answer({ status: 201, body: { id: 1 } });
  clock = fakeClock();
  api = {
    baseUrl: `${recorder.url}/api/v4`,
    token: TOKEN,
    fetch: globalThis.fetch,
    clock: wholeMs(clock),
  };
});

/**
 * The fake clock advances by the fractional back-off it is asked to sleep, and
 * requestWithRetry hands `deadline - now` to AbortSignal.timeout, which refuses fractions
 * (a wall clock never yields one). Sleeping whole milliseconds keeps the fake realistic.
 */
function wholeMs(inner: FakeClock): FakeClock {
  return { ...inner, sleep: (ms, signal) => inner.sleep(Math.ceil(ms), signal) };
}

async function apiError(promise: Promise<unknown>): Promise<HostApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HostApiError) return error;
    throw error;
  }
  throw new Error('expected a HostApiError');
}

describe('gitlab postCommitStatus', () => {
  it('posts the status to the project by id, with a Bearer token', async () => {
    await gitlabDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(`/api/v4/projects/4861503/statuses/${SHA}`);
    expect(request!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request!.headers['private-token']).toBeUndefined();
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual({
      state: 'failed',
      name: 'codebuild/api-tests',
      target_url: status.targetUrl,
      description: 'BUILD failed: make exited 2 after 3m12s',
    });
  });

  it('addresses a project without id by its URL-encoded full path', async () => {
    await gitlabDriver.postCommitStatus(
      api,
      { ...target, repo: { ...target.repo, id: null } },
      status,
    );
    expect(recorder.requests[0]!.path).toBe(
      `/api/v4/projects/acme%2Fplatform%2Fapi/statuses/${SHA}`,
    );
  });

  it('maps every state to GitLab words', async () => {
    const sent: string[] = [];
    for (const state of [
      'pending',
      'running',
      'success',
      'failure',
      'error',
      'canceled',
    ] as const) {
      await gitlabDriver.postCommitStatus(api, target, { ...status, state });
      sent.push(JSON.parse(recorder.requests.at(-1)!.body).state);
    }
    expect(sent).toEqual(['pending', 'running', 'success', 'failed', 'failed', 'canceled']);
  });

  it('cuts a long description to 255 characters', async () => {
    await gitlabDriver.postCommitStatus(api, target, { ...status, description: 'x'.repeat(300) });
    const body = JSON.parse(recorder.requests[0]!.body);
    expect([...body.description]).toHaveLength(255);
    expect(body.description.endsWith('…')).toBe(true);
  });

  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    recorder.answer({ status: 429, headers: { 'retry-after': '7' }, body: {} }, { status: 201 });
    await gitlabDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([7000]);
  });

  it('retries three 500s with growing back-off, then succeeds', async () => {
    recorder.answer(
      { status: 500, body: { message: 'boom' } },
      { status: 500, body: { message: 'boom' } },
      { status: 500, body: { message: 'boom' } },
      { status: 201 },
    );
    await gitlabDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(4);
    expect(clock.sleeps).toHaveLength(3);
    // Exponential from 500 ms with jitter in [50%, 100%].
    clock.sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(250 * 2 ** i);
      expect(ms).toBeLessThanOrEqual(500 * 2 ** i + 1);
    });
  });

  it('surfaces a 401 at once, without retrying', async () => {
    recorder.answer({ status: 401, body: { message: '401 Unauthorized' } });
    const error = await apiError(gitlabDriver.postCommitStatus(api, target, status));
    expect(error.status).toBe(401);
    expect(error.unauthorized).toBe(true);
    expect(error.message).toContain('401 Unauthorized');
    expect(error.message).not.toContain(TOKEN);
    expect(recorder.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('counts the 400 answering a repeated state as done', async () => {
    recorder.answer({
      status: 400,
      body: {
        message:
          'Cannot transition status via :run from :running (Reason(s): Status cannot transition via "run")',
      },
    });
    await expect(
      gitlabDriver.postCommitStatus(api, target, { ...status, state: 'running' }),
    ).resolves.toBeUndefined();
    expect(recorder.requests).toHaveLength(1);
  });

  it('counts a late pending refused because the build already runs as done', async () => {
    recorder.answer({
      status: 400,
      body: {
        message:
          'Cannot transition status via :enqueue from :running (Reason(s): Status cannot transition via "enqueue")',
      },
    });
    await expect(
      gitlabDriver.postCommitStatus(api, target, { ...status, state: 'pending' }),
    ).resolves.toBeUndefined();
  });

  it('still fails on any other 400', async () => {
    recorder.answer({ status: 400, body: { message: { name: ['is too long'] } } });
    const error = await apiError(gitlabDriver.postCommitStatus(api, target, status));
    expect(error.status).toBe(400);
    expect(error.hostMessage).toContain('is too long');
  });
});
