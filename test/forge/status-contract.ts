/**
 * What every host driver's postCommitStatus promises alike, written once: every state is sent
 * as a word the host knows, and the retry contract (429 honours Retry-After, 5xx backs off and
 * retries, 401 fails at once without the token); and the fixture the host test files share (a
 * recording server standing in for the host API, with a fake clock). Each `<host>-status.test.ts`
 * registers the contract once, with its host's data (path, error bodies, state words), and keeps
 * as its own tests only what is the host's own: headers, body, limits and quirks.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HostApiError } from '../../src/errors.js';
import {
  COMMIT_STATES,
  type CommitState,
  type CommitStatus,
  type ForgeDriver,
  type HostApi,
  type StatusTarget,
} from '../../src/forge/types.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import {
  type HttpRecorder,
  type RecordedRequest,
  type ScriptedAnswer,
  startHttpRecorder,
} from '../support/http-recorder.js';

export interface StatusHostOptions {
  /** Where the API sits under the host's origin, e.g. `/api/v4`; `''` for the origin itself. */
  apiBasePath: string;
  token: string;
  /** The host's answer when it stored the status (e.g. 201 with JSON, 204 without). */
  stored: ScriptedAnswer;
}

/**
 * A stand-in for one host, for the tests of one describe: read it inside a test, never while the
 * suite is being collected.
 */
export interface StatusHost {
  readonly recorder: HttpRecorder;
  readonly clock: FakeClock;
  readonly api: HostApi;
  /** The driver's postCommitStatus, called on this host. */
  post(target: StatusTarget, status: CommitStatus): Promise<void>;
  /** Posts, checks that it took exactly one request, and gives that request and its body. */
  postOnce(
    target: StatusTarget,
    status: CommitStatus,
  ): Promise<{ request: RecordedRequest; body: Record<string, unknown> }>;
}

/**
 * Registers, in the enclosing describe, one recording server for all its tests, and before each
 * test: no recorded requests, `stored` as the answer, a fresh fake clock and a HostApi on both.
 */
export function useStatusHost(driver: ForgeDriver, options: StatusHostOptions): StatusHost {
  let recorder: HttpRecorder | undefined;
  let current: { recorder: HttpRecorder; clock: FakeClock; api: HostApi } | undefined;
  beforeAll(async () => {
    recorder = await startHttpRecorder();
  });
  afterAll(() => recorder?.close());
  beforeEach(() => {
    if (!recorder) throw new Error('the recording server did not start');
    recorder.requests.length = 0;
    recorder.answer(options.stored);
    const clock = fakeClock();
    const baseUrl = `${recorder.url}${options.apiBasePath}`;
    current = { recorder, clock, api: { baseUrl, token: options.token, fetch, clock } };
  });
  const now = () => {
    if (!current) throw new Error('useStatusHost is read inside a test, after its beforeEach');
    return current;
  };
  const host: StatusHost = {
    get recorder() {
      return now().recorder;
    },
    get clock() {
      return now().clock;
    },
    get api() {
      return now().api;
    },
    post: (target, status) => driver.postCommitStatus(now().api, target, status),
    async postOnce(target, status) {
      await host.post(target, status);
      expect(host.recorder.requests).toHaveLength(1);
      const request = host.recorder.requests[0]!;
      return { request, body: JSON.parse(request.body) };
    },
  };
  return host;
}

/** The HostApiError a call fails with; any other outcome fails the test. */
export async function hostApiError(promise: Promise<unknown>): Promise<HostApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HostApiError) return error;
    throw error;
  }
  throw new Error('expected a HostApiError, but the call succeeded');
}

export interface StatusContract extends StatusHostOptions {
  driver: ForgeDriver;
  target: StatusTarget;
  status: CommitStatus;
  /** Path and query every attempt must ask for, `apiBasePath` included. */
  requestPath: string;
  /** A body in the host's own error shape, sent with the 429 and the 500s. */
  errorBody: unknown;
  /** The host's 401 body, and the message the error must carry from it. */
  unauthorized: { body: unknown; hostMessage: string };
  /** The `state` the host is sent for each of ours; the type makes it name every one. */
  stateWords: Record<CommitState, string>;
}

const RETRY_AFTER_SECONDS = 7;

/** Registers the contract's cases for one driver, in a describe of their own. */
export function describeStatusContract(contract: StatusContract): void {
  const { driver, target, status, token, requestPath } = contract;
  describe(`${driver.displayName} commit status contract`, () => {
    const host = useStatusHost(driver, contract);
    const post = () => host.post(target, status);

    /** Exactly `count` requests, all to the status path with the same credentials (and body). */
    function expectAttempts(count: number, { sameBody = true } = {}): void {
      const { requests } = host.recorder;
      expect(requests.map((r) => `${r.method} ${r.path}`)).toEqual(
        Array.from({ length: count }, () => `POST ${requestPath}`),
      );
      for (const request of requests) {
        expect(request.headers.authorization).toBe(requests[0]!.headers.authorization);
        if (sameBody) expect(request.body).toBe(requests[0]!.body);
      }
    }

    it(`maps every state to a word ${driver.displayName} knows`, async () => {
      const sent: Partial<Record<CommitState, unknown>> = {};
      for (const state of COMMIT_STATES) {
        await host.post(target, { ...status, state });
        expectAttempts(Object.keys(sent).length + 1, { sameBody: false });
        sent[state] = JSON.parse(host.recorder.requests.at(-1)!.body).state;
      }
      expect(sent).toEqual(contract.stateWords);
    });

    it('waits as long as Retry-After says after a 429, then succeeds', async () => {
      host.recorder.answer(
        {
          status: 429,
          headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
          body: contract.errorBody,
        },
        contract.stored,
      );
      await expect(post()).resolves.toBeUndefined();
      expectAttempts(2);
      expect(host.clock.sleeps).toEqual([RETRY_AFTER_SECONDS * 1000]);
    });

    it('retries three 500s with growing back-off, then succeeds', async () => {
      const boom = { status: 500, body: contract.errorBody };
      host.recorder.answer(boom, boom, boom, contract.stored);
      await expect(post()).resolves.toBeUndefined();
      expectAttempts(4);
      expect(host.clock.sleeps).toHaveLength(3);
      // Exponential from 500 ms with jitter in [50%, 100%).
      host.clock.sleeps.forEach((ms, i) => {
        expect(ms).toBeGreaterThanOrEqual(250 * 2 ** i);
        expect(ms).toBeLessThan(500 * 2 ** i);
      });
    });

    it('surfaces a 401 at once, without retrying and without the token', async () => {
      host.recorder.answer({ status: 401, body: contract.unauthorized.body });
      const error = await hostApiError(post());
      expect(error).toMatchObject({
        host: driver.displayName,
        status: 401,
        unauthorized: true,
        hostMessage: contract.unauthorized.hostMessage,
        method: 'POST',
        url: `${host.recorder.url}${requestPath}`,
      });
      expect(error.message).toContain(contract.unauthorized.hostMessage);
      // Not in the message, nor in any field a caller might log.
      expect(JSON.stringify({ ...error, message: error.message })).not.toContain(token);
      expectAttempts(1);
      expect(host.clock.sleeps).toEqual([]);
    });
  });
}
