import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostApiError } from '../../src/errors.js';
import { bitbucketDriver } from '../../src/forge/bitbucket/index.js';
import { buildStatusKey } from '../../src/forge/bitbucket/shared.js';
import type { CommitStatus, HostApi, StatusTarget } from '../../src/forge/types.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { type HttpRecorder, startHttpRecorder } from '../support/http-recorder.js';

const TOKEN = 'bb-access-token';
const SHA = '141977fedf5cf35aa290ac87d4b5177ac4cd9de1';
const target: StatusTarget = { repo: { fullName: 'acme-team/storefront', id: null }, sha: SHA };
const status: CommitStatus = {
  state: 'running',
  context: 'codebuild/storefront',
  description: 'BUILD running',
  targetUrl: 'https://eu-west-1.console.aws.amazon.com/codesuite/codebuild/1/projects/shop/build/x',
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
  recorder.answer({ status: 201, body: { key: 'x' } });
  clock = fakeClock();
  api = { baseUrl: recorder.url, token: TOKEN, fetch: globalThis.fetch, clock: wholeMs(clock) };
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

describe('bitbucket cloud postCommitStatus', () => {
  it('posts a build status for the commit, with a Bearer token', async () => {
    await bitbucketDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(1);
    const [request] = recorder.requests;
    expect(request!.method).toBe('POST');
    expect(request!.path).toBe(
      `/2.0/repositories/acme-team/storefront/commit/${SHA}/statuses/build`,
    );
    expect(request!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(request!.body)).toEqual({
      key: 'codebuild/storefront',
      state: 'INPROGRESS',
      name: 'codebuild/storefront',
      url: status.targetUrl,
      description: 'BUILD running',
    });
  });

  it('maps every state to Bitbucket words', async () => {
    const sent: string[] = [];
    for (const state of [
      'pending',
      'running',
      'success',
      'failure',
      'error',
      'canceled',
    ] as const) {
      await bitbucketDriver.postCommitStatus(api, target, { ...status, state });
      sent.push(JSON.parse(recorder.requests.at(-1)!.body).state);
    }
    expect(sent).toEqual(['INPROGRESS', 'INPROGRESS', 'SUCCESSFUL', 'FAILED', 'FAILED', 'STOPPED']);
  });

  it('derives a stable 40-character key from a longer context and keeps the whole name', async () => {
    const context = 'codebuild/storefront-integration-tests-eu-west-1';
    const other = 'codebuild/storefront-integration-tests-eu-central-1';
    await bitbucketDriver.postCommitStatus(api, target, { ...status, context });
    await bitbucketDriver.postCommitStatus(api, target, { ...status, context });
    await bitbucketDriver.postCommitStatus(api, target, { ...status, context: other });
    const bodies = recorder.requests.map((r) => JSON.parse(r.body));
    expect(bodies[0].key).toHaveLength(40);
    expect(bodies[0].key).toMatch(/^codebuild\/storefront-integratio-[0-9a-f]{8}$/);
    expect(bodies[1].key).toBe(bodies[0].key);
    expect(bodies[2].key).toHaveLength(40);
    expect(bodies[2].key).not.toBe(bodies[0].key);
    expect(bodies[0].name).toBe(context);
  });

  it('leaves a key of exactly 40 characters as it is', () => {
    expect(buildStatusKey('k'.repeat(40), 40)).toBe('k'.repeat(40));
    expect(buildStatusKey('k'.repeat(41), 40)).toHaveLength(40);
  });

  it('waits as long as Retry-After says after a 429, then succeeds', async () => {
    recorder.answer({ status: 429, headers: { 'retry-after': '3' }, body: {} }, { status: 201 });
    await bitbucketDriver.postCommitStatus(api, target, status);
    expect(recorder.requests).toHaveLength(2);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('retries three 500s with growing back-off, then succeeds', async () => {
    const boom = {
      status: 500,
      body: { type: 'error', error: { message: 'Something went wrong' } },
    };
    recorder.answer(boom, boom, boom, { status: 201 });
    await bitbucketDriver.postCommitStatus(api, target, status);
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
        type: 'error',
        error: { message: 'Token is invalid, expired, or not supported for this endpoint.' },
      },
    });
    const error = await apiError(bitbucketDriver.postCommitStatus(api, target, status));
    expect(error.status).toBe(401);
    expect(error.hostMessage).toBe(
      'Token is invalid, expired, or not supported for this endpoint.',
    );
    expect(error.message).not.toContain(TOKEN);
    expect(recorder.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('refuses a repository name that is not workspace/slug before sending anything', async () => {
    const bad = { ...target, repo: { fullName: 'just-a-name', id: null } };
    await expect(bitbucketDriver.postCommitStatus(api, bad, status)).rejects.toThrow(
      'the Bitbucket Cloud repository "just-a-name" is not of the form workspace/repo-slug',
    );
    expect(recorder.requests).toHaveLength(0);
  });
});
