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

describe('acceptDeliveries', () => {
  it('answers each delivery in input order and keeps them all on reopen', () => {
    const results = store.acceptDeliveries([
      sampleDelivery('d1', [sampleJob('plan-a')], { receivedAt: 1_000 }),
      sampleDelivery('d2', [], { reason: "event 'ping'" }),
      sampleDelivery('d3', [sampleJob('plan-b'), sampleJob('plan-c')], { receivedAt: 3_000 }),
    ]);
    expect(results.map((r) => [r.duplicateDelivery, r.created.map((job) => job.id)])).toEqual([
      [false, ['plan-a']],
      [false, []],
      [false, ['plan-b', 'plan-c']],
    ]);
    store.close();

    store = openSqliteStore({ path: temp.path });
    expect(store.getDelivery('github', 'd2')?.reason).toBe("event 'ping'");
    expect(store.getJob('plan-c')).toMatchObject({ deliveryId: 'd3', nextAttemptAt: 3_000 });
    expect(store.stats().deliveries).toBe(3);
  });

  it('returns the created jobs exactly as they read back from the store', () => {
    const [result] = store.acceptDeliveries([
      sampleDelivery('d1', [sampleJob('plan-a')], { receivedAt: 7_000 }),
    ]);
    expect(result!.created).toEqual([store.getJob('plan-a')]);
  });

  it('treats the second of two same-id deliveries in one batch as a duplicate, writing none of it', () => {
    const results = store.acceptDeliveries([
      sampleDelivery('d1', [sampleJob('plan-a')]),
      sampleDelivery('d1', [sampleJob('plan-z')]),
      sampleDelivery('d1', [], { hostId: 'gitlab-internal' }),
    ]);
    expect(results).toEqual([
      expect.objectContaining({ duplicateDelivery: false, duplicates: [] }),
      { duplicateDelivery: true, created: [], duplicates: [] },
      { duplicateDelivery: false, created: [], duplicates: [] },
    ]);
    expect(store.getJob('plan-z')).toBeNull();
    expect(store.getDelivery('github', 'd1')?.planIds).toEqual(['plan-a']);
  });

  it('reports a plan id planned earlier in the same batch as a duplicate of the first', () => {
    const results = store.acceptDeliveries([
      sampleDelivery('d1', [sampleJob('plan-a')]),
      sampleDelivery('d2', [sampleJob('plan-a'), sampleJob('plan-b')]),
    ]);
    expect(results[1]!.duplicates).toEqual(['plan-a']);
    expect(results[1]!.created.map((job) => job.id)).toEqual(['plan-b']);
    expect(store.getJob('plan-a')?.deliveryId).toBe('d1');
    expect(store.getDelivery('github', 'd2')?.planIds).toEqual(['plan-a', 'plan-b']);
  });

  it('is atomic: one job the schema refuses rolls back every delivery of the batch', () => {
    const bad = { ...sampleJob('plan-c'), sha: '' } satisfies NewJob;
    const batch = [
      sampleDelivery('d1', [sampleJob('plan-a')]),
      sampleDelivery('d2', []),
      sampleDelivery('d3', [sampleJob('plan-b'), bad]),
    ];
    let thrown: unknown;
    try {
      store.acceptDeliveries(batch);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StoreError);
    expect((thrown as StoreError).code).toBe('store.bad-input');
    expect((thrown as Error).message).toMatch(
      /^Delivery d3 from github was not recorded \(nor were the 2 others written with it\): CHECK constraint failed/,
    );
    expect(store.stats().deliveries).toBe(0);
    expect(store.getJob('plan-a')).toBeNull();

    // Nothing was half-written: the good ones are accepted in full when sent again.
    const again = store.acceptDeliveries(batch.slice(0, 2));
    expect(again.map((r) => r.duplicateDelivery)).toEqual([false, false]);
    expect(again[0]!.created.map((job) => job.id)).toEqual(['plan-a']);
  });

  it('refuses a plan that is not JSON before writing anything of the batch', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() =>
      store.acceptDeliveries([
        sampleDelivery('d1', [sampleJob('plan-a')]),
        sampleDelivery('d2', [sampleJob('plan-b', { plan: cyclic })]),
      ]),
    ).toThrow(/Job plan-b: its plan is not JSON/);
    expect(store.stats().deliveries).toBe(0);
  });

  it('says store.write-failed, not bad input, when the store cannot write at all', () => {
    store.close();
    store = openSqliteStore({ path: temp.path, busyTimeoutMs: 0 });
    const holder = new Database(temp.path);
    try {
      holder.exec('BEGIN IMMEDIATE');
      let thrown: unknown;
      try {
        store.acceptDeliveries([sampleDelivery('d1', []), sampleDelivery('d2', [])]);
      } catch (error) {
        thrown = error;
      }
      expect((thrown as StoreError).code).toBe('store.write-failed');
      expect((thrown as Error).message).toMatch(
        /^2 deliveries \(d1 from github and 1 more\) were not recorded: database is locked; check the disk/,
      );
      holder.exec('ROLLBACK');
    } finally {
      holder.close();
    }
    expect(store.acceptDeliveries([sampleDelivery('d1', [])])[0]!.duplicateDelivery).toBe(false);
  });

  it('writes nothing for an empty batch', () => {
    expect(store.acceptDeliveries([])).toEqual([]);
    expect(store.stats().deliveries).toBe(0);
  });
});
