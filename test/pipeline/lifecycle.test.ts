/**
 * The worker's own life: stop() lets the step in progress finish and takes no new one, within a
 * bound; a store that cannot be read (a corrupt row) is reported and the worker keeps going.
 */
import {
  type CodeBuildClient,
  StartBuildCommand,
  type StartBuildCommandOutput,
} from '@aws-sdk/client-codebuild';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, hexSha, startHarness, succeeds, waitFor } from './harness.js';

let h: Harness;

afterEach(async () => {
  await h?.close();
});

/** Holds every StartBuild until `release()`. */
function gateStartBuild(): { release(): void; inFlight(): boolean } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let inFlight = false;
  const real = h.deps.codebuild;
  h.deps.codebuild = {
    send: async (command: unknown) => {
      if (command instanceof StartBuildCommand) {
        inFlight = true;
        await gate;
        return (await real.send(command)) as StartBuildCommandOutput;
      }
      return real.send(command as never);
    },
  } as unknown as CodeBuildClient;
  return { release, inFlight: () => inFlight };
}

const nextMacrotask = () => new Promise((resolve) => setImmediate(resolve));

describe('Worker.stop', () => {
  it('lets the step in progress finish, takes no new step, and a new worker goes on', async () => {
    h = await startHarness();
    h.fake.onStart = succeeds;
    const gate = gateStartBuild();
    const [job] = h.push(hexSha(60));
    const worker = h.worker();
    worker.start();
    await waitFor('StartBuild to be in flight', gate.inFlight);

    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    await nextMacrotask();
    expect(stopped).toBe(false);
    gate.release();
    await stopping;

    // The build start was recorded; the pending status is the next worker's to post.
    expect(h.job(job!.id)).toMatchObject({ step: 'post-pending' });
    expect(h.statuses()).toEqual([]);

    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');
    expect(h.fake.count('StartBuild')).toBe(1);
    expect(h.statuses().map((s) => s.state)).toEqual(['pending', 'success']);
  });

  it('does not wait past its grace for a step that hangs', async () => {
    h = await startHarness();
    h.deps.timing = { ...h.deps.timing, stopGraceMs: 100 };
    const gate = gateStartBuild();
    h.push(hexSha(61));
    const worker = h.worker();
    worker.start();
    await waitFor('StartBuild to be in flight', gate.inFlight);

    const began = Date.now();
    await worker.stop();
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(h.logs.some((l) => l.level === 'warn' && /stop grace/.test(l.message))).toBe(true);
    gate.release();
  });
});

describe('a corrupt row in the store', () => {
  it('is logged at error (not once per look), and the worker carries on once it is repaired', async () => {
    h = await startHarness();
    h.fake.onStart = succeeds;
    const [broken] = h.push(hexSha(62), 'broken');
    const [healthy] = h.push(hexSha(63), 'healthy');
    const db = new Database(h.storePath);
    db.prepare("UPDATE jobs SET event = 'not json' WHERE id = ?").run(broken!.id);

    let looks = 0;
    const dueJobs = h.store.dueJobs.bind(h.store);
    h.store.dueJobs = (now, limit) => {
      looks++;
      return dueJobs(now, limit);
    };

    h.worker().start();
    const errors = () => h.logs.filter((l) => l.level === 'error');
    await waitFor('the error to be logged', () => errors().length > 0);
    const firstErrorAt = looks;
    await waitFor('five more looks at the store', () => looks >= firstErrorAt + 5);
    expect(errors()).toHaveLength(1);
    expect(errors()[0]!.message).toBe('cannot read the due jobs from the store; retrying');
    expect(String((errors()[0]!.fields.err as Error).message)).toContain(`job ${broken!.id}`);

    db.prepare('DELETE FROM jobs WHERE id = ?').run(broken!.id);
    db.close();
    await waitFor('the healthy job to be done', () => h.job(healthy!.id).step === 'done');
    expect(errors()).toHaveLength(1);
    expect(h.statuses().map((s) => s.state)).toEqual(['pending', 'success']);
  });
});
