import type { Build, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { afterEach, describe, expect, it } from 'vitest';
import { BuildNotFoundError } from '../../src/codebuild/errors.js';
import { BatchWatcher, BuildWatcher } from '../../src/codebuild/watcher.js';
import type { Clock, Logger } from '../../src/deps.js';
import { type FakeClock, fakeClock } from '../support/fake-clock.js';
import { type FakeCodeBuild, fakeClients, startFakeCodeBuild } from '../support/fake-codebuild.js';

const T0 = Date.UTC(2026, 0, 1);

interface Recorded {
  level: string;
  fields: object;
  message?: string;
}
function recordingLogger(records: Recorded[] = []): Logger & { records: Recorded[] } {
  const at =
    (level: string) =>
    (fields: object, message?: string): void => {
      records.push({ level, fields, message });
    };
  const logger = {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: () => logger,
  };
  return logger;
}

/**
 * Virtual time driven by the test: sleeps wait until advanceTo() reaches them, and after firing
 * one the driver waits (bounded, in real time) until the watcher sleeps again or is done.
 */
function virtualClock(start: number) {
  let now = start;
  const timers: { at: number; fire: () => void }[] = [];
  let sleepWaiters: (() => void)[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = {
          at: now + ms,
          fire: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          timers.splice(timers.indexOf(timer), 1);
          reject(signal?.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        timers.push(timer);
        const waiters = sleepWaiters;
        sleepWaiters = [];
        for (const wake of waiters) wake();
      }),
  };
  const nextSleep = () => new Promise<void>((resolve) => sleepWaiters.push(resolve));
  const bounded = (p: Promise<unknown>) =>
    new Promise<void>((resolve, reject) => {
      const limit = setTimeout(
        () => reject(new Error('the watcher did not sleep again within 5 s')),
        5000,
      );
      p.then(() => {
        clearTimeout(limit);
        resolve();
      }, reject);
    });
  return {
    clock,
    nextSleep,
    /** Runs `action` (which should wake the watcher) and waits until it sleeps again. */
    async settle(action: () => void, done?: Promise<unknown>): Promise<void> {
      const slept = nextSleep();
      action();
      await bounded(Promise.race([slept, ...(done ? [done] : [])]));
    },
    async advanceTo(target: number, done: Promise<unknown>): Promise<void> {
      for (let fired = 0; fired < 10_000; fired++) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > target) {
          now = Math.max(now, target);
          return;
        }
        timers.shift();
        now = Math.max(now, next.at);
        await this.settle(next.fire, done);
      }
      throw new Error('advanceTo fired 10,000 timers');
    },
  };
}

let fake: FakeCodeBuild | undefined;
let client: CodeBuildClient | undefined;
afterEach(async () => {
  client?.destroy();
  await fake?.close();
  fake = undefined;
  client = undefined;
});

async function setup(now: () => number) {
  fake = await startFakeCodeBuild({ now });
  client = fakeClients(fake.url).codebuild;
  return { fake, client };
}

function batchCalls(f: FakeCodeBuild) {
  return f.calls.filter((c) => c.op === 'BatchGetBuilds');
}

describe('BuildWatcher', () => {
  it('watches 250 builds with at most 3 BatchGetBuilds calls of ≤ 100 ids per poll', async () => {
    const clock = fakeClock(T0);
    const { fake, client } = await setup(clock.now);
    const ids: string[] = [];
    for (let i = 0; i < 250; i++) {
      const running = Array.from({ length: 1 + (i % 4) }, (_, k) => ({
        currentPhase: ['PROVISIONING', 'BUILD', 'POST_BUILD', 'FINALIZING'][k],
      }));
      ids.push(
        fake.addBuild({}, ...running, { buildStatus: 'SUCCEEDED', currentPhase: 'COMPLETED' }).id,
      );
    }
    const watcher = new BuildWatcher({
      client,
      clock,
      logger: recordingLogger(),
      random: () => 0.5,
    });
    const updates = new Map<string, number>();
    const finals = await Promise.all(
      ids.map((id) =>
        watcher.watch(id, { onUpdate: () => updates.set(id, (updates.get(id) ?? 0) + 1) }),
      ),
    );

    expect(finals.map((b) => b.buildStatus)).toEqual(ids.map(() => 'SUCCEEDED'));
    expect(updates.get(ids[3]!)).toBe(5); // four phases, then the end
    const rounds = new Map<number, ReturnType<typeof batchCalls>>();
    for (const call of batchCalls(fake))
      rounds.set(call.at, [...(rounds.get(call.at) ?? []), call]);
    expect(rounds.size).toBeGreaterThan(3);
    for (const calls of rounds.values()) {
      expect(calls.length).toBeLessThanOrEqual(3);
      const polled = calls.flatMap((c) => c.body.ids as string[]);
      expect(new Set(polled).size).toBe(polled.length);
      for (const call of calls) expect((call.body.ids as string[]).length).toBeLessThanOrEqual(100);
    }
    expect([...rounds.values()][0]!.length).toBe(3);
    expect(watcher.calls).toBe(batchCalls(fake).length);
    expect(watcher.inFlight).toBe(0);
  });

  it('backs off with jitter on throttling and never fails the subscribers', async () => {
    const clock = fakeClock(T0);
    const { fake, client } = await setup(clock.now);
    fake.failWhen('BatchGetBuilds', (n) => n % 2 === 0, 'ThrottlingException');
    const ids = [0, 1, 2].map(
      () => fake.addBuild({}, { currentPhase: 'BUILD' }, {}, {}, { buildStatus: 'FAILED' }).id,
    );
    const logger = recordingLogger();
    const watcher = new BuildWatcher({
      client,
      clock,
      logger,
      random: () => 0.5,
      policy: { backoffBaseMs: 10_000 },
    });
    const finals = await Promise.all(ids.map((id) => watcher.watch(id)));
    expect(finals.map((b) => b.buildStatus)).toEqual(['FAILED', 'FAILED', 'FAILED']);

    const calls = batchCalls(fake);
    const throttled = calls.filter((c) => c.error === 'ThrottlingException');
    expect(throttled.length).toBeGreaterThanOrEqual(3);
    // The builds were due again at once; without back-off the next poll would come after the 2 s
    // floor. 10 s base, first failure in a row, random 0.5 → × 0.75.
    const gaps = calls
      .slice(0, -1)
      .map((call, i) => ({ error: call.error, gap: calls[i + 1]!.at - call.at }));
    for (const { error, gap } of gaps) if (error) expect(gap).toBe(7_500);
    expect(
      logger.records.filter(
        (r) => r.level === 'warn' && /throttled; backing off/.test(r.message ?? ''),
      ),
    ).toHaveLength(throttled.length);
  });

  it('doubles the back-off while throttling goes on, up to its ceiling', async () => {
    const clock = fakeClock(T0);
    const { fake, client } = await setup(clock.now);
    fake.failWhen('BatchGetBuilds', (n) => n <= 4, 'ThrottlingException');
    const id = fake.addBuild({}, { buildStatus: 'SUCCEEDED' }).id;
    const watcher = new BuildWatcher({
      client,
      clock,
      logger: recordingLogger(),
      random: () => 0,
      policy: { backoffBaseMs: 4_000, backoffMaxMs: 12_000 },
    });
    await expect(watcher.watch(id)).resolves.toMatchObject({ buildStatus: 'SUCCEEDED' });
    const at = batchCalls(fake).map((c) => c.at - T0);
    // × 0.5 at random 0: 2 s (the floor), 4 s, then the 12 s ceiling × 0.5 = 6 s twice.
    expect(at).toEqual([0, 2_000, 6_000, 12_000, 18_000]);
  });

  it('rejects only the subscriber of a build CodeBuild does not know', async () => {
    const clock = fakeClock(T0);
    const { fake, client } = await setup(clock.now);
    const known = fake.addBuild({}, { currentPhase: 'BUILD' }, { buildStatus: 'SUCCEEDED' }).id;
    const watcher = new BuildWatcher({ client, clock, logger: recordingLogger() });
    const missing = watcher.watch('demo:00000000-0000-0000-0000-000000000000');
    const found = watcher.watch(known);
    await expect(missing).rejects.toSatisfy(
      (e) =>
        e instanceof BuildNotFoundError &&
        e.buildId === 'demo:00000000-0000-0000-0000-000000000000',
    );
    await expect(found).resolves.toMatchObject({ id: known, buildStatus: 'SUCCEEDED' });
    const later = batchCalls(fake).slice(1);
    for (const call of later) expect(call.body.ids).toEqual([known]);
  });

  it('drops an aborted build from the polls and rejects it with the reason', async () => {
    const clock = fakeClock(T0);
    const { fake, client } = await setup(clock.now);
    const done = { buildStatus: 'SUCCEEDED' };
    const a = fake.addBuild({}, {}, {}, {}, {}, done).id;
    const b = fake.addBuild({}, { currentPhase: 'BUILD' }).id; // never ends
    const c = fake.addBuild({}, {}, {}, {}, {}, done).id;
    const watcher = new BuildWatcher({ client, clock, logger: recordingLogger() });
    const cancel = new AbortController();
    let callsAtAbort = -1;
    const cancelled = watcher.watch(b, {
      signal: cancel.signal,
      onUpdate: () => {
        callsAtAbort = batchCalls(fake).length;
        cancel.abort(new Error('workflow cancelled'));
      },
    });
    const rest = Promise.all([watcher.watch(a), watcher.watch(c)]);
    await expect(cancelled).rejects.toThrow('workflow cancelled');
    await rest;
    const after = batchCalls(fake).slice(callsAtAbort);
    expect(after.length).toBeGreaterThan(2);
    for (const call of after) expect(call.body.ids).not.toContain(b);
    expect(watcher.inFlight).toBe(0);
  });

  it('notices the end of a 10-minute build within 3 s with no more calls than a 30 s poll', async () => {
    const time = virtualClock(T0);
    const { fake, client } = await setup(time.clock.now);
    const id = fake.addBuild().id;
    const logs = { groupName: '/aws/codebuild/demo', streamName: id.split(':')[1] };
    fake.evolve(id, (now) => {
      const age = (now - T0) / 1000;
      if (age < 20) return { currentPhase: 'PROVISIONING' };
      if (age < 590) return { currentPhase: 'BUILD', logs };
      if (age < 598) return { currentPhase: 'POST_BUILD' };
      if (age < 600) return { currentPhase: 'FINALIZING' };
      return {
        currentPhase: 'COMPLETED',
        buildStatus: 'SUCCEEDED',
        endTime: new Date(T0 + 600_000),
      };
    });
    const watcher = new BuildWatcher({
      client,
      clock: time.clock,
      logger: recordingLogger(),
      random: () => 0.5,
    });
    let logsKnownAt = 0;
    let endedAt = 0;
    let watching!: Promise<Build>;
    await time.settle(() => {
      watching = watcher.watch(id, {
        onUpdate: (b) => {
          if (b.logs?.streamName && !logsKnownAt) logsKnownAt = time.clock.now();
        },
      });
      watching.then(() => {
        endedAt = time.clock.now();
      });
    });
    await time.advanceTo(T0 + 590_000, watching);
    // The log tail shows POST_BUILD: the Action says the end is near.
    await time.settle(() => watcher.expedite(id), watching);
    await time.advanceTo(T0 + 700_000, watching);
    await expect(watching).resolves.toMatchObject({ buildStatus: 'SUCCEEDED' });

    expect(endedAt - (T0 + 600_000)).toBeGreaterThanOrEqual(0);
    expect(endedAt - (T0 + 600_000)).toBeLessThanOrEqual(3_000);
    expect(logsKnownAt - (T0 + 20_000)).toBeLessThanOrEqual(5_000);
    const polls = batchCalls(fake).map((c) => (c.at - T0) / 1000);
    expect(polls.length).toBeLessThanOrEqual(600 / 30 + 1);
    // Past the start, one call a minute where the official action makes two.
    expect(polls.filter((s) => s >= 120 && s < 580).length).toBeLessThanOrEqual(8);
  });

  it('polls fast around the expected end of a build', async () => {
    const time = virtualClock(T0);
    const { fake, client } = await setup(time.clock.now);
    const id = fake.addBuild().id;
    fake.evolve(id, (now) =>
      now < T0 + 300_000
        ? { currentPhase: 'BUILD' }
        : { currentPhase: 'COMPLETED', buildStatus: 'SUCCEEDED' },
    );
    const watcher = new BuildWatcher({
      client,
      clock: time.clock,
      logger: recordingLogger(),
      random: () => 0.5,
    });
    let endedAt = 0;
    let watching!: Promise<Build>;
    await time.settle(() => {
      watching = watcher.watch(id, { expectedDurationMs: 300_000 });
      watching.then(() => {
        endedAt = time.clock.now();
      });
    });
    await time.advanceTo(T0 + 400_000, watching);
    await expect(watching).resolves.toMatchObject({ buildStatus: 'SUCCEEDED' });
    expect(endedAt - (T0 + 300_000)).toBeLessThanOrEqual(3_000);
  });

  it('fails the subscribers with a readable error when the call is refused', async () => {
    const clock: FakeClock = fakeClock(T0);
    const { fake, client } = await setup(clock.now);
    fake.failWhen(
      'BatchGetBuilds',
      () => true,
      'AccessDeniedException',
      'not authorized to perform codebuild:BatchGetBuilds',
    );
    const id = fake.addBuild().id;
    const watcher = new BuildWatcher({ client, clock, logger: recordingLogger() });
    await expect(watcher.watch(id)).rejects.toThrow(
      'CodeBuild BatchGetBuilds failed: AccessDeniedException: not authorized to perform codebuild:BatchGetBuilds',
    );
    expect(watcher.inFlight).toBe(0);
  });

  it('rejects pending watches on close', async () => {
    const clock = fakeClock(T0);
    const { fake, client } = await setup(clock.now);
    const id = fake.addBuild({}, { currentPhase: 'BUILD' }).id;
    const watcher = new BuildWatcher({ client, clock, logger: recordingLogger() });
    const watching = watcher.watch(id, { onUpdate: () => watcher.close() });
    await expect(watching).rejects.toThrow('the build watcher was closed');
    await expect(watcher.watch(id)).rejects.toThrow('closed');
  });
});

describe('BatchWatcher', () => {
  it('follows a build batch to its end through BatchGetBuildBatches', async () => {
    const clock = fakeClock(T0);
    const { fake, client } = await setup(clock.now);
    const group = (status: string) => [
      { identifier: 'linux', currentBuildSummary: { arn: 'arn:x', buildStatus: status } },
    ];
    const batch = fake.addBatch(
      {},
      { currentPhase: 'DOWNLOAD_BATCHSPEC' },
      { currentPhase: 'IN_PROGRESS', buildGroups: group('IN_PROGRESS') },
      { buildGroups: group('SUCCEEDED') },
      { currentPhase: 'SUCCEEDED', buildBatchStatus: 'SUCCEEDED' },
    );
    const watcher = new BatchWatcher({ client, clock, logger: recordingLogger() });
    const seen: string[] = [];
    const final = await watcher.watch(batch.id, {
      onUpdate: (b) =>
        seen.push(
          `${b.currentPhase}/${b.buildGroups?.[0]?.currentBuildSummary?.buildStatus ?? '-'}`,
        ),
    });
    expect(final.buildBatchStatus).toBe('SUCCEEDED');
    expect(seen).toEqual([
      'DOWNLOAD_BATCHSPEC/-',
      'IN_PROGRESS/IN_PROGRESS',
      'IN_PROGRESS/SUCCEEDED',
      'SUCCEEDED/SUCCEEDED',
    ]);
    await expect(watcher.watch('demo:nope')).rejects.toBeInstanceOf(BuildNotFoundError);
  });
});
