/**
 * A worker can die at any point: a NEW worker on the same store picks each job up at the step
 * the store recorded, without starting a second build or posting a second final status.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBuild } from '../../src/codebuild/index.js';
import { prepareStartBuild } from '../../src/trigger.js';
import type { WireObject } from '../support/fake-codebuild.js';
import { type Harness, hexSha, startHarness, succeeds, waitFor } from './harness.js';

let h: Harness;

afterEach(async () => {
  await h?.close();
});

const ops = () => h.fake.calls.map((c) => c.op);

/** Moves the pushed job along the steps as a crashed worker would have left it. */
function leaveAt(
  jobId: string,
  path: Array<
    [from: 'start' | 'post-pending' | 'watch', to: 'post-pending' | 'watch' | 'stop' | 'post-final']
  >,
  patch: Parameters<Harness['store']['advance']>[3] = {},
): void {
  for (const [from, to] of path) {
    if (!h.store.advance(jobId, from, to, patch, Date.now()))
      throw new Error(`cannot move ${from}`);
  }
}

function addBuild(init: Partial<WireObject>, ...upcoming: Partial<WireObject>[]): WireObject {
  return h.fake.addBuild({ projectName: 'demo', ...init }, ...upcoming);
}

describe('a new worker resumes a job where the store left it', () => {
  it('at start, after a StartBuild the dead worker sent: the same build, not a second one', async () => {
    h = await startHarness();
    h.fake.onStart = succeeds;
    const sha = hexSha(20);
    const [job] = h.push(sha);
    const { event, plan } = h.plan(sha);
    // The dead worker claimed the job, started the build, and died before recording it.
    const now = Date.now();
    expect(h.store.claim(job!.id, 'start', now, now + 300)).toBe(true);
    const request = await prepareStartBuild(h.deps, 'gh', event, plan);
    const first = await startBuild(h.deps.codebuild, request);

    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(h.job(job!.id).buildId).toBe(first.id);
    expect(h.fake.count('StartBuild')).toBe(2);
    expect(h.statuses().map((s) => s.state)).toEqual(['pending', 'success']);
  });

  it('at post-pending: posts pending with the recorded link, then watches the build', async () => {
    h = await startHarness();
    const [job] = h.push(hexSha(21));
    const build = addBuild(
      {},
      { currentPhase: 'BUILD' },
      { buildStatus: 'SUCCEEDED', currentPhase: 'COMPLETED' },
    );
    leaveAt(job!.id, [['start', 'post-pending']], {
      buildId: build.id,
      buildArn: build.arn as string,
      buildUrl: 'https://builds.example/1',
    });

    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(ops()).not.toContain('StartBuild');
    const statuses = h.statuses();
    expect(statuses.map((s) => s.state)).toEqual(['pending', 'success']);
    expect(statuses[0]!.targetUrl).toBe('https://builds.example/1');
  });

  it('at watch, for a build that ended while no worker ran: one final status, no pending', async () => {
    h = await startHarness();
    const [job] = h.push(hexSha(22));
    const build = addBuild({
      buildStatus: 'FAILED',
      currentPhase: 'COMPLETED',
      buildComplete: true,
      phases: [{ phaseType: 'INSTALL', phaseStatus: 'FAILED', durationInSeconds: 7 }],
    });
    leaveAt(
      job!.id,
      [
        ['start', 'post-pending'],
        ['post-pending', 'watch'],
      ],
      { buildId: build.id, buildUrl: 'https://builds.example/2' },
    );

    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(ops()).toEqual(['BatchGetBuilds']);
    expect(h.statuses().map((s) => [s.state, s.description])).toEqual([
      ['failure', 'INSTALL failed after 7s'],
    ]);
  });

  it('at stop: stops the build once and posts the cancel', async () => {
    h = await startHarness();
    const [job] = h.push(hexSha(23));
    const build = addBuild({ currentPhase: 'BUILD' });
    leaveAt(
      job!.id,
      [
        ['start', 'post-pending'],
        ['post-pending', 'stop'],
      ],
      {
        buildId: build.id,
        buildUrl: 'https://builds.example/3',
        finalState: 'canceled',
        finalDescription: 'superseded by 0000abc',
      },
    );

    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(ops()).toEqual(['StopBuild']);
    expect(h.fake.get(build.id)?.buildStatus).toBe('STOPPED');
    // GitHub has no "canceled": the driver says error, the words say why.
    expect(h.statuses().map((s) => [s.state, s.description])).toEqual([
      ['error', 'superseded by 0000abc'],
    ]);
  });

  it('at post-final: posts the recorded outcome once and calls CodeBuild for nothing', async () => {
    h = await startHarness();
    const [job] = h.push(hexSha(24));
    leaveAt(
      job!.id,
      [
        ['start', 'post-pending'],
        ['post-pending', 'watch'],
        ['watch', 'post-final'],
      ],
      {
        buildId: 'demo:recorded',
        buildUrl: 'https://builds.example/4',
        finalState: 'failure',
        finalDescription: 'BUILD failed: make exited 2 after 42s',
      },
    );

    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(ops()).toEqual([]);
    expect(h.statuses().map((s) => [s.state, s.description, s.targetUrl])).toEqual([
      ['failure', 'BUILD failed: make exited 2 after 42s', 'https://builds.example/4'],
    ]);
  });

  it('after a worker stopped mid-build: the next one watches it to its end, posting nothing twice', async () => {
    h = await startHarness();
    let build: WireObject | undefined;
    h.fake.onStart = (started) => {
      build = started;
      return [{ currentPhase: 'BUILD' }];
    };
    const [job] = h.push(hexSha(25));
    const first = h.worker();
    first.start();
    await waitFor(
      'the build to be watched',
      () => h.job(job!.id).step === 'watch' && h.fake.count('BatchGetBuilds') > 1,
    );
    await first.stop();

    h.fake.script(build!.id, {
      buildStatus: 'SUCCEEDED',
      currentPhase: 'COMPLETED',
      buildComplete: true,
    });
    h.worker().start();
    await waitFor('the job to be done', () => h.job(job!.id).step === 'done');

    expect(h.fake.count('StartBuild')).toBe(1);
    expect(h.statuses().map((s) => s.state)).toEqual(['pending', 'success']);
  });

  it('leaves a done job alone', async () => {
    h = await startHarness();
    h.fake.onStart = succeeds;
    const [finished] = h.push(hexSha(26), 'old');
    leaveAt(finished!.id, [['start', 'post-final']], {
      finalState: 'error',
      finalDescription: 'x',
    });
    h.store.advance(finished!.id, 'post-final', 'done', {}, Date.now());
    const [other] = h.push(hexSha(27), 'new');

    h.worker().start();
    await waitFor('the other job to be done', () => h.job(other!.id).step === 'done');

    expect(h.fake.count('StartBuild')).toBe(1);
    expect(new Set(h.statuses().map((s) => s.sha))).toEqual(new Set([hexSha(27)]));
  });
});
