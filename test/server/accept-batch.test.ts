/**
 * Group commit through the real app: concurrent deliveries share transactions, each still gets
 * its own answer, and a transaction that fails fails every delivery in it and stores none.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { AcceptBatcher } from '../../server/accept-batcher.js';
import {
  type NewDelivery,
  openSqliteStore,
  type Store,
  StoreError,
} from '../../src/store/index.js';
import { sampleDelivery, sampleJob, tempDir } from '../store/sample.js';
import { edited, github, type Harness, harness, post, shared } from './harness.js';

const DELIVERIES = 50;

/** The store, counting the transactions deliveries are written in (batch sizes, in order). */
function countingStore(inner: Store) {
  const batches: number[] = [];
  let singles = 0;
  const store: Store = {
    acceptDelivery: (delivery) => {
      singles++;
      return inner.acceptDelivery(delivery);
    },
    acceptDeliveries: (deliveries) => {
      batches.push(deliveries.length);
      return inner.acceptDeliveries(deliveries);
    },
    getDelivery: (hostId, deliveryId) => inner.getDelivery(hostId, deliveryId),
    getJob: (id) => inner.getJob(id),
    findByBuildId: (buildId) => inner.findByBuildId(buildId),
    dueJobs: (now, limit) => inner.dueJobs(now, limit),
    claim: (id, step, now, until) => inner.claim(id, step, now, until),
    releaseClaims: (now) => inner.releaseClaims(now),
    advance: (id, from, to, patch, now) => inner.advance(id, from, to, patch, now),
    retryLater: (id, step, error, next, now) => inner.retryLater(id, step, error, next, now),
    supersededBy: (id) => inner.supersededBy(id),
    stats: () => inner.stats(),
    prune: (before) => inner.prune(before),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
  return { store, batches, singles: () => singles };
}

/** `count` distinct pushes to master: each its own commit and delivery id. */
function pushes(count: number) {
  return Array.from({ length: count }, (_, i) => {
    const sha = (0xabc000 + i).toString(16).padEnd(40, '0');
    const body = edited(shared('github'), (payload) => {
      payload.after = sha;
      (payload.head_commit as { id: string }).id = sha;
    });
    return { sha, delivery: github(body) };
  });
}

let h: Harness | undefined;
let temp: ReturnType<typeof tempDir> | undefined;
afterEach(() => {
  h?.close();
  h = undefined;
  temp?.remove();
  temp = undefined;
});

describe('deliveries arriving together', () => {
  it('are each answered 202 with their own build, written in fewer transactions than deliveries', async () => {
    const counting = countingStore(openSqliteStore({ path: ':memory:' }));
    h = harness({ store: counting.store });
    const sent = pushes(DELIVERIES);
    const responses = await Promise.all(sent.map(({ delivery }) => post(h!, 'gh', delivery)));

    expect(responses.map((r) => r.status)).toEqual(sent.map(() => 202));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as Array<{
      deliveryId: string;
      builds: Array<{ id: string; sha: string }>;
    }>;
    for (const [i, body] of bodies.entries()) {
      expect(body.deliveryId).toBe(sent[i]!.delivery.headers['x-github-delivery']);
      expect(body.builds.map((b) => b.sha)).toEqual([sent[i]!.sha]);
      const job = h.store.getJob(body.builds[0]!.id);
      expect([job?.deliveryId, job?.sha]).toEqual([body.deliveryId, sent[i]!.sha]);
    }
    expect(h.jobCount()).toBe(DELIVERIES);
    expect(h.wakes()).toBe(DELIVERIES);
    expect(counting.batches.reduce((sum, n) => sum + n, 0)).toBe(DELIVERIES);
    expect(counting.batches.length).toBeLessThan(DELIVERIES);
    expect(counting.singles()).toBe(0);
  });

  it('answer 503 every one when their transaction fails, and none of them is stored', async () => {
    temp = tempDir();
    const counting = countingStore(openSqliteStore({ path: temp.path, busyTimeoutMs: 0 }));
    h = harness({ store: counting.store });
    const sent = pushes(10);
    // Another writer holds the lock: the store cannot write (SQLITE_BUSY), a real failure.
    const holder = new Database(temp.path);
    try {
      holder.exec('BEGIN IMMEDIATE');
      const responses = await Promise.all(sent.map(({ delivery }) => post(h!, 'gh', delivery)));
      expect(responses.map((r) => r.status)).toEqual(sent.map(() => 503));
      const codes = await Promise.all(
        responses.map(async (r) => ((await r.json()) as { error: { code: string } }).error.code),
      );
      expect(new Set(codes)).toEqual(new Set(['store.write-failed']));
      holder.exec('ROLLBACK');
    } finally {
      holder.close();
    }
    expect(counting.batches.length).toBeLessThan(sent.length);
    expect(h.store.stats().deliveries).toBe(0);
    expect(h.jobCount()).toBe(0);
    expect(h.wakes()).toBe(0);

    // Nothing was half-written: sent again, each is a new delivery and is accepted in full.
    const again = await Promise.all(sent.map(({ delivery }) => post(h!, 'gh', delivery)));
    expect(again.map((r) => r.status)).toEqual(sent.map(() => 202));
    expect(h.jobCount()).toBe(sent.length);
  });
});

describe('AcceptBatcher', () => {
  const delivery = (id: string, sha?: string): NewDelivery =>
    sampleDelivery(id, [sampleJob(`plan-${id}`, sha === undefined ? {} : { sha })]);

  it('writes a delivery alone on the next tick, and the ones queued in one tick together', async () => {
    const counting = countingStore(openSqliteStore({ path: ':memory:' }));
    const batcher = new AcceptBatcher(counting.store);
    const alone = await batcher.accept(delivery('d1'));
    expect(alone.created.map((job) => job.id)).toEqual(['plan-d1']);
    const together = await Promise.all([
      batcher.accept(delivery('d2')),
      batcher.accept(delivery('d3')),
      batcher.accept(delivery('d2')),
    ]);
    expect(together.map((r) => r.duplicateDelivery)).toEqual([false, false, true]);
    expect(counting.batches).toEqual([1, 3]);
    counting.store.close();
  });

  it('splits a long queue into transactions of at most maxBatch', async () => {
    const counting = countingStore(openSqliteStore({ path: ':memory:' }));
    const batcher = new AcceptBatcher(counting.store, 4);
    const ids = Array.from({ length: 10 }, (_, i) => `d${i}`);
    const results = await Promise.all(ids.map((id) => batcher.accept(delivery(id))));
    expect(results.map((r) => r.created[0]?.deliveryId)).toEqual(ids);
    expect(counting.batches).toEqual([4, 4, 2]);
    counting.store.close();
  });

  it('fails only the delivery whose own data the store refuses; its neighbours are written', async () => {
    const counting = countingStore(openSqliteStore({ path: ':memory:' }));
    const batcher = new AcceptBatcher(counting.store);
    const settled = await Promise.allSettled([
      batcher.accept(delivery('d1')),
      batcher.accept(delivery('d2', '')),
      batcher.accept(delivery('d3')),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const refused = (settled[1] as PromiseRejectedResult).reason as StoreError;
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused.message).toMatch(/^Delivery d2 from github was not recorded: CHECK/);
    expect(counting.batches).toEqual([3, 1, 1, 1]);
    expect(counting.store.getDelivery('github', 'd3')).not.toBeNull();
    expect(counting.store.getDelivery('github', 'd2')).toBeNull();
    counting.store.close();
  });

  it('close writes what is queued at once, and later deliveries are written as they come', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const batcher = new AcceptBatcher(store);
    const queued = batcher.accept(delivery('d1'));
    batcher.close();
    expect(store.getDelivery('github', 'd1')).not.toBeNull();
    const late = batcher.accept(delivery('d2'));
    expect(store.getDelivery('github', 'd2')).not.toBeNull();
    expect((await queued).duplicateDelivery).toBe(false);
    expect((await late).duplicateDelivery).toBe(false);
    store.close();
  });
});
