import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { Build } from '@aws-sdk/client-codebuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogsUnavailableError } from '../../src/codebuild/errors.js';
import { isNearEndLine, type LogLine, tailBuildLogs } from '../../src/codebuild/logs.js';
import type { Clock } from '../../src/deps.js';
import { fakeClock } from '../support/fake-clock.js';
import { type FakeCodeBuild, fakeClients, startFakeCodeBuild } from '../support/fake-codebuild.js';

const GROUP = '/aws/codebuild/demo';
const STREAM = '6c4a3b6e-0000-4000-8000-000000000001';
const located: Build = {
  id: `demo:${STREAM}`,
  logs: { groupName: GROUP, streamName: STREAM },
};
const early: Build = {
  id: `demo:${STREAM}`,
  logs: { cloudWatchLogsArn: 'arn:aws:logs:us-east-1:123456789012:log-group:null:log-stream:null' },
};

let fake: FakeCodeBuild;
let logs: CloudWatchLogsClient;
const clock = fakeClock();
beforeEach(async () => {
  fake = await startFakeCodeBuild({ now: clock.now });
  logs = fakeClients(fake.url).logs;
});
afterEach(async () => {
  logs.destroy();
  await fake.close();
});

/** The fake clock, running `step(n)` before its n-th sleep; more than 200 sleeps fail the test. */
function steppedClock(step: (n: number) => void): Clock & { sleeps: number } {
  const stepped = {
    sleeps: 0,
    now: clock.now,
    sleep: async (ms: number, signal?: AbortSignal) => {
      stepped.sleeps++;
      if (stepped.sleeps > 200) throw new Error('the tailer slept 200 times');
      step(stepped.sleeps);
      await clock.sleep(ms, signal);
    },
  };
  return stepped;
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const messages = (lines: LogLine[]) => lines.map((l) => l.message);
const getLogEvents = () => fake.calls.filter((c) => c.op === 'GetLogEvents');

describe('tailBuildLogs', () => {
  it('reads every page, following nextForwardToken to the last line', async () => {
    fake.logPageSize = 10;
    const written = Array.from({ length: 25 }, (_, i) => `line ${i + 1}\n`);
    fake.appendLogs(GROUP, STREAM, written);
    const lines: LogLine[] = [];
    await tailBuildLogs({
      logs,
      clock,
      currentBuild: () => located,
      finished: Promise.resolve(),
      onLines: (batch) => lines.push(...batch),
    });
    expect(messages(lines)).toEqual(written.map((w) => w.trimEnd()));
    const calls = getLogEvents();
    expect(calls[0]!.body).toEqual({
      logGroupName: GROUP,
      logStreamName: STREAM,
      startFromHead: true,
    });
    expect(calls[1]!.body.nextToken).toBe(`f/${'10'.padStart(20, '0')}`);
    expect(calls[2]!.body.nextToken).toBe(`f/${'20'.padStart(20, '0')}`);
  });

  it('waits for the log location and for the stream to exist', async () => {
    let build: Build = early;
    const done = deferred();
    let readsBeforeLocation = -1;
    const stepped = steppedClock((n) => {
      if (n === 3) {
        readsBeforeLocation = getLogEvents().length;
        build = located;
      }
      if (n === 6) fake.appendLogs(GROUP, STREAM, ['[Container] Entering phase BUILD\n', 'make\n']);
      if (n === 8) done.resolve();
    });
    const lines: LogLine[] = [];
    await tailBuildLogs({
      logs,
      clock: stepped,
      currentBuild: () => build,
      finished: done.promise,
      onLines: (batch) => lines.push(...batch),
    });
    expect(readsBeforeLocation).toBe(0);
    expect(
      getLogEvents().filter((c) => c.error === 'ResourceNotFoundException').length,
    ).toBeGreaterThan(0);
    expect(messages(lines)).toEqual(['[Container] Entering phase BUILD', 'make']);
  });

  it('gets the lines CloudWatch receives just after the build ended', async () => {
    fake.appendLogs(GROUP, STREAM, ['line 1\n']);
    const done = deferred();
    let finishedAt = 0;
    const stepped = steppedClock((n) => {
      if (n === 2) done.resolve();
      if (n === 4)
        fake.appendLogs(GROUP, STREAM, [
          '[Container] Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED\n',
        ]);
    });
    done.promise.then(() => {
      finishedAt = clock.now();
    });
    const lines: LogLine[] = [];
    await tailBuildLogs({
      logs,
      clock: stepped,
      currentBuild: () => located,
      finished: done.promise,
      onLines: (batch) => lines.push(...batch),
      pollMs: 2_000,
      graceMs: 8_000,
    });
    expect(messages(lines)).toEqual([
      'line 1',
      '[Container] Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED',
    ]);
    const sinceEnd = clock.now() - finishedAt;
    expect(sinceEnd).toBeGreaterThanOrEqual(8_000);
    expect(sinceEnd).toBeLessThan(8_000 + 2_000);
  });

  it('stops when the build ended without a log stream', async () => {
    const lines: LogLine[] = [];
    await tailBuildLogs({
      logs,
      clock,
      currentBuild: () => early,
      finished: Promise.resolve(),
      onLines: (batch) => lines.push(...batch),
    });
    expect(lines).toEqual([]);
    expect(getLogEvents()).toHaveLength(0);
  });

  it('backs off on throttling and refuses readably when access is denied', async () => {
    fake.appendLogs(GROUP, STREAM, ['only line\n']);
    fake.failWhen('GetLogEvents', (n) => n <= 2, 'ThrottlingException');
    const before = clock.sleeps.length;
    const lines: LogLine[] = [];
    await tailBuildLogs({
      logs,
      clock,
      currentBuild: () => located,
      finished: Promise.resolve(),
      onLines: (batch) => lines.push(...batch),
      pollMs: 1_000,
    });
    expect(messages(lines)).toEqual(['only line']);
    expect(clock.sleeps.slice(before, before + 2)).toEqual([2_000, 4_000]);

    fake.clearFailures();
    fake.failWhen(
      'GetLogEvents',
      () => true,
      'AccessDeniedException',
      'not authorized to perform logs:GetLogEvents',
    );
    const denied = tailBuildLogs({
      logs,
      clock,
      currentBuild: () => located,
      finished: Promise.resolve(),
      onLines: () => {},
    });
    await expect(denied).rejects.toBeInstanceOf(LogsUnavailableError);
    await expect(denied).rejects.toThrow(
      `Cannot read the build's CloudWatch logs (group "${GROUP}", stream "${STREAM}"): AccessDeniedException: not authorized`,
    );
  });

  it('stops quietly when aborted', async () => {
    fake.appendLogs(GROUP, STREAM, ['a\n']);
    const stop = new AbortController();
    const never = new Promise<void>(() => {});
    const stepped = steppedClock((n) => {
      if (n === 3) stop.abort(new Error('cancelled'));
    });
    await expect(
      tailBuildLogs({
        logs,
        clock: stepped,
        currentBuild: () => located,
        finished: never,
        onLines: () => {},
        signal: stop.signal,
      }),
    ).resolves.toBeUndefined();
  });
});

describe('isNearEndLine', () => {
  it('spots the lines written when only seconds remain', () => {
    const at = '[Container] 2026/01/01 12:00:00.123456';
    expect(isNearEndLine(`${at} Phase complete: POST_BUILD State: SUCCEEDED`)).toBe(true);
    expect(isNearEndLine(`${at} Entering phase UPLOAD_ARTIFACTS`)).toBe(true);
    expect(isNearEndLine(`${at} Phase complete: INSTALL State: FAILED`)).toBe(true);
    expect(isNearEndLine(`${at} Entering phase POST_BUILD`)).toBe(false);
    expect(isNearEndLine(`${at} Phase complete: BUILD State: SUCCEEDED`)).toBe(false);
    expect(isNearEndLine('Running command make')).toBe(false);
  });
});
