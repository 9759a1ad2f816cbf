/**
 * followBuild against the hand-written CodeBuild/CloudWatch Logs HTTP fake (real SDK, real
 * clock, timings shortened): what makes it look at the build's status, and what it does when the
 * log is refused or elsewhere than expected.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FollowTiming, followBuild } from '../../action/follow.js';
import { type LogLine, LogsUnavailableError } from '../../src/codebuild/index.js';
import { silentLogger, systemClock } from '../../src/deps.js';
import {
  type FakeCodeBuild,
  fakeClients,
  startFakeCodeBuild,
  type WireObject,
} from '../support/fake-codebuild.js';

let fake: FakeCodeBuild;
let clients: ReturnType<typeof fakeClients>;

beforeAll(async () => {
  fake = await startFakeCodeBuild();
  clients = fakeClients(fake.url);
});
afterAll(() => fake?.close());

/** Fast enough for a test; the shape of the schedule is the Action's. */
const timing: Partial<FollowTiming> = {
  firstLookMs: 20_000,
  logPolicy: { floorMs: 100, fastMs: 200, slowMs: 20_000, startRamp: 1, endRamp: 0.5 },
  blindFirstLookMs: 100,
  blindPolicy: { floorMs: 100, fastMs: 200, slowMs: 400, startRamp: 1, endRamp: 0.5 },
  logPollMs: 100,
  logGraceMs: 20_000,
};

const agent = (text: string) => `[Container] 2026/01/01 12:00:00.000000 ${text}`;
const done = (phase: string) => [
  agent(`Phase complete: ${phase} State: SUCCEEDED`),
  agent('Phase context status code:  Message: '),
];
const PHASES = [
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'UPLOAD_ARTIFACTS',
];

/** A build that runs for `ms` and then SUCCEEDED, with every logged phase ended. */
function addBuild(ms: number, logs?: object): { build: WireObject; endsAt: number } {
  const build = fake.addBuild({ projectName: 'app' });
  const endsAt = Date.now() + ms;
  fake.evolve(build.id, (now) =>
    now < endsAt
      ? { currentPhase: 'BUILD', ...(logs ? { logs } : {}) }
      : {
          currentPhase: 'COMPLETED',
          buildStatus: 'SUCCEEDED',
          buildComplete: true,
          endTime: endsAt / 1000,
          phases: PHASES.map((phaseType) => ({ phaseType, phaseStatus: 'SUCCEEDED' })),
          ...(logs ? { logs } : {}),
        },
  );
  return { build, endsAt };
}

const started = (build: WireObject): Build =>
  ({ id: build.id, projectName: 'app', logs: { cloudWatchLogs: { status: 'ENABLED' } } }) as Build;

function follow(
  build: WireObject,
  options: { showLogs?: boolean; timing?: Partial<FollowTiming> } = {},
) {
  const lines: string[] = [];
  const unavailable: unknown[] = [];
  const promise = followBuild(
    { codebuild: clients.codebuild, logs: clients.logs, clock: systemClock, logger: silentLogger },
    {
      started: started(build),
      showLogs: options.showLogs ?? true,
      onLines: (batch: LogLine[]) => lines.push(...batch.map((l) => l.message)),
      onLogsUnavailable: (error) => unavailable.push(error),
      signal: new AbortController().signal,
      timing: { ...timing, ...options.timing },
    },
  );
  return { promise, lines, unavailable };
}

describe('followBuild', () => {
  it('tails the expected stream from the start and looks at the status when the log nears the end', async () => {
    const { build, endsAt } = addBuild(800);
    const uuid = build.id.split(':')[1]!;
    const stream = ['/aws/codebuild/app', uuid] as const;
    fake.appendLogs(...stream, [agent('Entering phase BUILD'), 'compiling']);
    const before = fake.count('BatchGetBuilds');
    const running = follow(build);
    await new Promise((resolve) => setTimeout(resolve, endsAt - Date.now() - 100));
    fake.appendLogs(...stream, [
      ...done('BUILD'),
      agent('Entering phase POST_BUILD'),
      ...done('POST_BUILD'),
      ...done('UPLOAD_ARTIFACTS'),
    ]);
    const ended = await running.promise;
    const seenAfter = Date.now() - endsAt;
    expect(ended.buildStatus).toBe('SUCCEEDED');
    // The first look was due at 20 s: only the near-end line made it look, twice at most.
    expect(seenAfter).toBeLessThan(2_000);
    expect(fake.count('BatchGetBuilds') - before).toBeLessThanOrEqual(2);
    // Every line, and no 20 s grace waited for the log to end.
    expect(running.lines).toContain('compiling');
    expect(running.lines.at(-1)).toBe(agent('Phase context status code:  Message: '));
  });

  it('goes on without the log when reading it is refused, looking at the status by age', async () => {
    const { build } = addBuild(500);
    fake.failWhen('GetLogEvents', () => true, 'AccessDeniedException', 'not allowed');
    try {
      const running = follow(build);
      const ended = await running.promise;
      expect(ended.buildStatus).toBe('SUCCEEDED');
      expect(running.unavailable).toHaveLength(1);
      expect(running.unavailable[0]).toBeInstanceOf(LogsUnavailableError);
      expect(String(running.unavailable[0])).toContain('allow logs:GetLogEvents');
    } finally {
      fake.clearFailures();
    }
  });

  it('moves the tail when the status names another stream before any line was read', async () => {
    const { build } = addBuild(1_500, {
      groupName: 'custom/group',
      streamName: 'prefix/elsewhere',
      cloudWatchLogsArn:
        'arn:aws:logs:us-east-1:123456789012:log-group:custom/group:log-stream:prefix/elsewhere',
    });
    fake.appendLogs('custom/group', 'prefix/elsewhere', [
      agent('Entering phase BUILD'),
      'from the real stream',
      ...PHASES.flatMap(done),
    ]);
    // A status look is what reveals the stream: make the first one come soon.
    const running = follow(build, { timing: { firstLookMs: 300 } });
    const ended = await running.promise;
    expect(ended.buildStatus).toBe('SUCCEEDED');
    expect(running.lines).toContain('from the real stream');
    expect(running.lines.at(-1)).toBe(agent('Phase context status code:  Message: '));
  });

  it('with the log hidden, looks at the status by the build age only', async () => {
    const { build, endsAt } = addBuild(600);
    const logReads = fake.count('GetLogEvents');
    const ended = await follow(build, { showLogs: false }).promise;
    expect(ended.buildStatus).toBe('SUCCEEDED');
    expect(Date.now() - endsAt).toBeLessThan(1_500);
    expect(fake.count('GetLogEvents')).toBe(logReads);
  });
});
