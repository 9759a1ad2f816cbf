import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type JobRecord, openSqliteStore, type Store } from '../../src/store/index.js';
import { sampleDelivery, sampleJob, tempDir } from './sample.js';

let temp: ReturnType<typeof tempDir>;
let store: Store;

beforeEach(() => {
  temp = tempDir();
  store = openSqliteStore({ path: temp.path });
});

afterEach(() => {
  store.close();
  temp.remove();
});

function job(id: string): JobRecord {
  const found = store.getJob(id);
  if (!found) throw new Error(`no job ${id}`);
  return found;
}

const started = { buildId: 'app-ci:uuid-1', buildArn: 'arn:aws:codebuild:build/app-ci:uuid-1' };

describe('advance', () => {
  beforeEach(() => {
    store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-a')], { receivedAt: 1_000 }));
  });

  it('is a compare-and-set on the step: the second advance from the same step changes nothing', () => {
    expect(store.advance('plan-a', 'start', 'post-pending', started, 2_000)).toBe(true);
    expect(
      store.advance('plan-a', 'start', 'post-pending', { buildId: 'app-ci:uuid-2' }, 3_000),
    ).toBe(false);
    expect(job('plan-a')).toMatchObject({
      step: 'post-pending',
      buildId: 'app-ci:uuid-1',
      updatedAt: 2_000,
    });
  });

  it('keeps recorded fields, resets the attempts and makes the next step due', () => {
    store.retryLater('plan-a', 'start', 'ThrottlingException: Rate exceeded', 9_000, 1_500);
    store.advance('plan-a', 'start', 'post-pending', started, 10_000);
    store.advance('plan-a', 'post-pending', 'watch', { nextAttemptAt: 40_000 }, 11_000);
    store.advance(
      'plan-a',
      'watch',
      'post-final',
      { finalState: 'failure', finalDescription: 'BUILD failed: make exited 2', buildUrl: 'u' },
      50_000,
    );
    expect(job('plan-a')).toMatchObject({
      step: 'post-final',
      buildId: 'app-ci:uuid-1',
      buildArn: started.buildArn,
      buildUrl: 'u',
      finalState: 'failure',
      finalDescription: 'BUILD failed: make exited 2',
      attempts: 0,
      lastError: null,
      nextAttemptAt: 50_000,
    });
    expect(store.advance('plan-a', 'post-final', 'done', {}, 51_000)).toBe(true);
    expect(store.dueJobs(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
  });

  it('refuses moves the step machine does not have', () => {
    expect(() => store.advance('plan-a', 'start', 'done', {}, 2_000)).toThrow(
      /Job plan-a: a job at step start cannot advance to done \(allowed: post-pending, post-final\)/,
    );
    expect(() => store.advance('plan-a', 'start', 'post-pending', {}, 2_000)).toThrow(
      /needs a buildId/,
    );
    expect(() => store.advance('plan-a', 'start', 'post-final', {}, 2_000)).toThrow(
      /needs a finalState/,
    );
    expect(job('plan-a').step).toBe('start');
  });

  it('lets a job that could not start go straight to posting an error', () => {
    const patch = {
      finalState: 'error',
      finalDescription: 'StartBuild: project not found',
    } as const;
    expect(store.advance('plan-a', 'start', 'post-final', patch, 2_000)).toBe(true);
    expect(job('plan-a')).toMatchObject({ step: 'post-final', buildId: null, finalState: 'error' });
  });

  it('finds a job by its build id', () => {
    expect(store.findByBuildId('app-ci:uuid-1')).toBeNull();
    store.advance('plan-a', 'start', 'post-pending', started, 2_000);
    expect(store.findByBuildId('app-ci:uuid-1')?.id).toBe('plan-a');
  });
});

describe('claim, retryLater and dueJobs', () => {
  beforeEach(() => {
    store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-a')], { receivedAt: 1_000 }));
    store.acceptDelivery(sampleDelivery('d2', [sampleJob('plan-b')], { receivedAt: 2_000 }));
    store.acceptDelivery(sampleDelivery('d3', [sampleJob('plan-c')], { receivedAt: 2_000 }));
  });

  const due = (now: number, limit = 10) => store.dueJobs(now, limit).map((found) => found.id);

  it('lists due jobs longest-waiting first, never future or done ones, up to the limit', () => {
    expect(due(999)).toEqual([]);
    expect(due(1_000)).toEqual(['plan-a']);
    expect(due(2_000)).toEqual(['plan-a', 'plan-b', 'plan-c']);
    expect(due(2_000, 2)).toEqual(['plan-a', 'plan-b']);
  });

  it('backs a failed step off: counts the attempt, keeps the error, due again later', () => {
    expect(store.retryLater('plan-a', 'start', 'AccountLimitExceededException', 8_000, 3_000)).toBe(
      true,
    );
    expect(store.retryLater('plan-a', 'start', 'ThrottlingException', 16_000, 8_000)).toBe(true);
    expect(job('plan-a')).toMatchObject({
      attempts: 2,
      lastError: 'ThrottlingException',
      nextAttemptAt: 16_000,
      updatedAt: 8_000,
    });
    expect(due(15_999)).toEqual(['plan-b', 'plan-c']);
    expect(due(16_000)).toEqual(['plan-b', 'plan-c', 'plan-a']);
    // A retry for a step the job has left is stale and changes nothing.
    expect(store.retryLater('plan-a', 'watch', 'late', 99_000, 9_000)).toBe(false);
    expect(job('plan-a').nextAttemptAt).toBe(16_000);
  });

  it('cuts a long error to 2000 characters', () => {
    store.retryLater('plan-a', 'start', `HTTP 502: ${'<html>'.repeat(1000)}`, 8_000, 3_000);
    const { lastError } = job('plan-a');
    expect(lastError).toHaveLength(2001);
    expect(lastError).toMatch(/^HTTP 502: <html>.*…$/);
  });

  it('lets one worker claim a due job; the claim ends at its time', () => {
    expect(store.claim('plan-a', 'start', 3_000, 63_000)).toBe(true);
    expect(store.claim('plan-a', 'start', 3_000, 63_000)).toBe(false);
    expect(due(62_999)).toEqual(['plan-b', 'plan-c']);
    // The worker was killed mid-step: the job is due again when the claim ends.
    expect(due(63_000)).toEqual(['plan-b', 'plan-c', 'plan-a']);
    expect(store.claim('plan-a', 'start', 63_000, 123_000)).toBe(true);
    expect(store.claim('plan-b', 'watch', 3_000, 63_000)).toBe(false);
    expect(job('plan-a').attempts).toBe(0);
  });

  it('releases every claim and back-off for a sole worker starting after a crash', () => {
    expect(store.claim('plan-a', 'start', 3_000, 63_000)).toBe(true);
    store.retryLater('plan-b', 'start', 'HTTP 502', 90_000, 3_000);
    expect(due(4_000)).toEqual(['plan-c']);
    expect(store.releaseClaims(4_000)).toBe(2);
    expect(due(4_000).sort()).toEqual(['plan-a', 'plan-b', 'plan-c']);
    // A released job is claimable at once by the new worker.
    expect(store.claim('plan-a', 'start', 4_000, 64_000)).toBe(true);
  });

  it('releases a claim when the step advances', () => {
    store.claim('plan-a', 'start', 3_000, 63_000);
    store.advance('plan-a', 'start', 'post-pending', started, 4_000);
    expect(due(4_000)).toContain('plan-a');
  });
});

describe('supersededBy', () => {
  it('lists older unfinished jobs of the same host, repo, branch, rule and project', () => {
    const onMain = (id: string, fields = {}) => sampleJob(id, fields);
    store.acceptDelivery(
      sampleDelivery('d1', [
        onMain('old-watching'),
        onMain('old-starting'),
        onMain('old-pending'),
        onMain('old-posting-final'),
        onMain('other-branch', { ref: 'refs/heads/dev' }),
        onMain('other-rule', { ruleName: 'nightly' }),
        onMain('other-project', { projectName: 'app-docs' }),
      ]),
    );
    store.acceptDelivery(sampleDelivery('d0', [onMain('other-host')], { hostId: 'gitea' }));
    store.advance('old-watching', 'start', 'post-pending', { buildId: 'b1' }, 2_000);
    store.advance('old-watching', 'post-pending', 'watch', {}, 2_000);
    store.advance('old-pending', 'start', 'post-pending', { buildId: 'b3' }, 2_000);
    store.advance('old-posting-final', 'start', 'post-final', { finalState: 'error' }, 2_000);
    store.acceptDelivery(sampleDelivery('d2', [onMain('new')], { receivedAt: 3_000 }));
    store.acceptDelivery(sampleDelivery('d3', [onMain('newer')], { receivedAt: 4_000 }));

    expect(store.supersededBy('new').map((found) => found.id)).toEqual([
      'old-watching',
      'old-starting',
      'old-pending',
    ]);
    expect(store.supersededBy('newer').map((found) => found.id)).toEqual([
      'old-watching',
      'old-starting',
      'old-pending',
      'new',
    ]);
    expect(store.supersededBy('old-watching')).toEqual([]);
    expect(store.supersededBy('no-such-job')).toEqual([]);
  });
});

describe('prune', () => {
  it('forgets done jobs and their deliveries before the cut, keeps everything unfinished', () => {
    store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-a')], { receivedAt: 1_000 }));
    store.acceptDelivery(sampleDelivery('d2', [sampleJob('plan-b')], { receivedAt: 1_000 }));
    store.acceptDelivery(sampleDelivery('d3', [], { receivedAt: 1_000 }));
    store.acceptDelivery(sampleDelivery('d4', [], { receivedAt: 9_000 }));
    store.advance('plan-a', 'start', 'post-final', { finalState: 'error' }, 2_000);
    store.advance('plan-a', 'post-final', 'done', {}, 2_000);

    expect(store.prune(5_000)).toEqual({ jobs: 1, deliveries: 2 });
    expect(store.getJob('plan-a')).toBeNull();
    expect(store.getDelivery('github', 'd1')).toBeNull();
    expect(store.getJob('plan-b')?.step).toBe('start');
    expect(store.getDelivery('github', 'd2')).not.toBeNull();
    expect(store.getDelivery('github', 'd4')).not.toBeNull();
  });
});
