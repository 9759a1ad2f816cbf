import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NewJob, openSqliteStore, type Store, StoreError } from '../../src/store/index.js';
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

describe('acceptDelivery', () => {
  it('records the delivery and its jobs, due at once at step start, and keeps them on reopen', () => {
    const result = store.acceptDelivery(
      sampleDelivery('d1', [sampleJob('plan-a'), sampleJob('plan-b')], { receivedAt: 5_000 }),
    );
    expect(result.duplicateDelivery).toBe(false);
    expect(result.duplicates).toEqual([]);
    expect(result.created.map((job) => [job.id, job.step, job.nextAttemptAt])).toEqual([
      ['plan-a', 'start', 5_000],
      ['plan-b', 'start', 5_000],
    ]);
    store.close();

    store = openSqliteStore({ path: temp.path });
    expect(store.getDelivery('github', 'd1')).toEqual({
      hostId: 'github',
      deliveryId: 'd1',
      receivedAt: 5_000,
      outcome: 'planned',
      reason: null,
      planIds: ['plan-a', 'plan-b'],
    });
    const job = store.getJob('plan-a');
    expect(job).toMatchObject({
      id: 'plan-a',
      hostId: 'github',
      deliveryId: 'd1',
      repo: 'octo/app',
      ref: 'refs/heads/main',
      sha: 'sha-plan-a',
      ruleName: 'default',
      projectName: 'app-ci',
      statusContext: 'codebuild/app-ci',
      step: 'start',
      buildId: null,
      finalState: null,
      attempts: 0,
      lastError: null,
      createdAt: 5_000,
      updatedAt: 5_000,
    });
    expect(job?.event).toEqual(sampleJob('plan-a').event);
    expect(job?.plan).toEqual(sampleJob('plan-a').plan);
  });

  it('writes nothing for a delivery id it already has, even with other jobs', () => {
    store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-a')]));
    const again = store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-z')]));
    expect(again).toEqual({ duplicateDelivery: true, created: [], duplicates: [] });
    expect(store.getJob('plan-z')).toBeNull();
    expect(store.getDelivery('github', 'd1')?.planIds).toEqual(['plan-a']);
  });

  it('treats the same delivery id from another host as a new delivery', () => {
    store.acceptDelivery(sampleDelivery('d1', []));
    const other = store.acceptDelivery(sampleDelivery('d1', [], { hostId: 'gitlab-internal' }));
    expect(other.duplicateDelivery).toBe(false);
  });

  it('creates nothing for a redelivery under a new delivery id with the same plan ids', () => {
    store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-a')]));
    const redelivery = store.acceptDelivery(
      sampleDelivery('d2', [sampleJob('plan-a'), sampleJob('plan-c')]),
    );
    expect(redelivery.duplicateDelivery).toBe(false);
    expect(redelivery.duplicates).toEqual(['plan-a']);
    expect(redelivery.created.map((job) => job.id)).toEqual(['plan-c']);
    // The first delivery still owns the job; the second is recorded for explain.
    expect(store.getJob('plan-a')?.deliveryId).toBe('d1');
    expect(store.getDelivery('github', 'd2')?.planIds).toEqual(['plan-a', 'plan-c']);
    expect(store.stats().jobsByStep.start).toBe(2);
  });

  it('counts the same plan twice in one delivery once', () => {
    const result = store.acceptDelivery(
      sampleDelivery('d1', [sampleJob('plan-a'), sampleJob('plan-a')]),
    );
    expect(result.created.map((job) => job.id)).toEqual(['plan-a']);
    expect(result.duplicates).toEqual(['plan-a']);
  });

  it('is atomic: a job the schema refuses rolls back the delivery and the jobs before it', () => {
    const bad = { ...sampleJob('plan-b'), repo: '' } satisfies NewJob;
    const attempt = () =>
      store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-a'), bad, sampleJob('plan-c')]));
    expect(attempt).toThrow(StoreError);
    expect(attempt).toThrow(/Delivery d1 from github was not recorded: CHECK constraint failed/);
    expect(store.getDelivery('github', 'd1')).toBeNull();
    expect(store.getJob('plan-a')).toBeNull();

    // Nothing was half-recorded, so a fixed redelivery of the same id is accepted in full.
    const fixed = store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-a')]));
    expect(fixed.duplicateDelivery).toBe(false);
    expect(fixed.created.map((job) => job.id)).toEqual(['plan-a']);
  });

  it('refuses an event or plan that is not a JSON object, naming the job, and writes nothing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const attempt = () =>
      store.acceptDelivery(
        sampleDelivery('d1', [sampleJob('plan-a'), sampleJob('plan-b', { plan: cyclic })]),
      );
    expect(attempt).toThrow(/Job plan-b: its plan is not JSON/);
    expect(store.getJob('plan-a')).toBeNull();
    expect(() =>
      store.acceptDelivery(sampleDelivery('d2', [sampleJob('plan-c', { plan: [1, 2] })])),
    ).toThrow(/Job plan-c: its plan must be a JSON object/);
  });

  it('records ignored deliveries, dedupes them, and counts them by outcome', () => {
    const ping = sampleDelivery('d1', [], { outcome: 'ignored', reason: "event 'ping'" });
    expect(store.acceptDelivery(ping).duplicateDelivery).toBe(false);
    expect(store.acceptDelivery(ping).duplicateDelivery).toBe(true);
    store.acceptDelivery(sampleDelivery('d2', [sampleJob('plan-a')]));
    expect(store.getDelivery('github', 'd1')).toMatchObject({
      outcome: 'ignored',
      reason: "event 'ping'",
      planIds: [],
    });
    expect(store.stats()).toEqual({
      jobsByStep: { start: 1, 'post-pending': 0, watch: 0, stop: 0, 'post-final': 0, done: 0 },
      deliveries: 2,
      deliveriesByOutcome: { ignored: 1, planned: 1 },
    });
  });

  it('leaves the file in WAL mode with the schema version set', () => {
    const reader = new Database(temp.path, { readonly: true });
    try {
      expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(reader.pragma('user_version', { simple: true })).toBe(1);
    } finally {
      reader.close();
    }
  });
});
