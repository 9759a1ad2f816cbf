/**
 * cancelSuperseded: a newer push to the same branch stops the older build and its commit gets a
 * canceled status naming the newer commit; builds are never left running unowned.
 */
import {
  type CodeBuildClient,
  StartBuildCommand,
  type StartBuildCommandOutput,
} from '@aws-sdk/client-codebuild';
import { afterEach, describe, expect, it } from 'vitest';
import type { WireObject } from '../support/fake-codebuild.js';
import { type Harness, hexSha, shaOf, startHarness, succeeds, waitFor } from './harness.js';

let h: Harness;

afterEach(async () => {
  await h?.close();
});

const older = hexSha(30);
const newer = hexSha(31);

/** The older push's build runs until stopped; the newer one's succeeds. */
function olderRunsOn(build: WireObject): Partial<WireObject>[] {
  return shaOf(build) === older ? [{ currentPhase: 'BUILD' }] : succeeds(build);
}

const statesOf = (sha: string) =>
  h
    .statuses()
    .filter((s) => s.sha === sha)
    .map((s) => [s.state, s.description]);

describe('cancelSuperseded', () => {
  it('stops the older build of the branch and posts canceled on its commit', async () => {
    h = await startHarness({ rule: ['cancelSuperseded: true'] });
    h.fake.onStart = olderRunsOn;
    const [first] = h.push(older);
    const worker = h.worker();
    worker.start();
    await waitFor('the older build to be watched', () => h.job(first!.id).step === 'watch');
    const olderBuild = h.job(first!.id).buildId!;

    const [second] = h.push(newer);
    worker.wake();
    await waitFor('both jobs to be done', () =>
      [first!, second!].every((j) => h.job(j.id).step === 'done'),
    );

    const stops = h.fake.calls.filter((c) => c.op === 'StopBuild');
    expect(stops.map((c) => c.body.id)).toEqual([olderBuild]);
    expect(h.job(first!.id)).toMatchObject({
      finalState: 'canceled',
      finalDescription: `superseded by ${newer.slice(0, 7)}`,
    });
    expect(statesOf(older)).toEqual([
      ['pending', 'build queued: demo'],
      ['error', `superseded by ${newer.slice(0, 7)}`],
    ]);
    expect(statesOf(newer)).toEqual([
      ['pending', 'build queued: demo'],
      ['success', 'BUILD succeeded in 3m12s'],
    ]);
  });

  it('cancels an older job that has not started yet without starting its build', async () => {
    h = await startHarness({ rule: ['cancelSuperseded: true'], concurrency: 1 });
    h.fake.onStart = succeeds;
    // Both are due; the newer one has waited longer, so it is taken first.
    const [first] = h.push(older, 'main', Date.now() - 1_000);
    const [second] = h.push(newer, 'main', Date.now() - 2_000);
    h.worker().start();
    await waitFor('both jobs to be done', () =>
      [first!, second!].every((j) => h.job(j.id).step === 'done'),
    );

    expect(h.fake.count('StartBuild')).toBe(1);
    expect(h.job(first!.id).buildId).toBeNull();
    expect(statesOf(older)).toEqual([['error', `superseded by ${newer.slice(0, 7)}`]]);
    expect(statesOf(newer).map(([state]) => state)).toEqual(['pending', 'success']);
  });

  it('leaves older builds alone without it', async () => {
    h = await startHarness();
    h.fake.onStart = succeeds;
    const jobs = [...h.push(older), ...h.push(newer)];
    h.worker().start();
    await waitFor('both jobs to be done', () => jobs.every((j) => h.job(j.id).step === 'done'));

    expect(h.fake.count('StopBuild')).toBe(0);
    expect(statesOf(older).map(([state]) => state)).toEqual(['pending', 'success']);
  });

  it('stops the build it just started when its job was canceled while StartBuild was in flight', async () => {
    h = await startHarness();
    h.fake.onStart = () => [{ currentPhase: 'BUILD' }];
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
    const [job] = h.push(older);
    h.worker().start();
    await waitFor('StartBuild to be in flight', () => inFlight);
    // Another process canceled the job meanwhile (its claim on the job had lapsed).
    h.store.advance(
      job!.id,
      'start',
      'post-final',
      { finalState: 'canceled', finalDescription: 'superseded by 1234567' },
      Date.now(),
    );
    release();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');
    await waitFor('the orphan build to be stopped', () => h.fake.count('StopBuild') === 1);

    const [started] = h.fake.calls.filter((c) => c.op === 'StartBuild');
    const [stopped] = h.fake.calls.filter((c) => c.op === 'StopBuild');
    expect(started!.error).toBeUndefined();
    expect(h.fake.get(String(stopped!.body.id))?.buildStatus).toBe('STOPPED');
    expect(statesOf(older)).toEqual([['error', 'superseded by 1234567']]);
  });
});
