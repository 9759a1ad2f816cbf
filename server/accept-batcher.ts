/**
 * Group commit for deliveries. better-sqlite3 is synchronous, so every commit's fsync blocks the
 * event loop; one transaction per delivery caps the server at one fsync per delivery and queues
 * everything behind it. Here a delivery is queued and every delivery queued by the next macrotask
 * (setImmediate) is written in ONE `acceptDeliveries` transaction: alone, a delivery waits one tick;
 * under load, the deliveries that arrived during one fsync share the next. Nothing is answered
 * before its transaction committed, so an accepted delivery is as durable as before.
 */
import { type AcceptResult, type NewDelivery, type Store, StoreError } from '../src/store/index.js';

export interface DeliveryAcceptor {
  /** Resolves once the delivery is durably recorded (or known); rejects when it was not written. */
  accept(delivery: NewDelivery): Promise<AcceptResult>;
}

/** Bounds one transaction's size and the time the loop is blocked writing it. */
export const MAX_BATCH = 256;

interface Waiting {
  delivery: NewDelivery;
  resolve(result: AcceptResult): void;
  reject(error: unknown): void;
}

export class AcceptBatcher implements DeliveryAcceptor {
  private queue: Waiting[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly store: Pick<Store, 'acceptDeliveries'>,
    private readonly maxBatch = MAX_BATCH,
  ) {}

  accept(delivery: NewDelivery): Promise<AcceptResult> {
    return new Promise((resolve, reject) => {
      this.queue.push({ delivery, resolve, reject });
      if (this.closed) {
        this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes everything queued now, in transactions of at most `maxBatch` deliveries. */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) this.write(this.queue.splice(0, this.maxBatch));
  }

  /**
   * For shutdown, before the store closes: writes what is queued; a delivery that still comes
   * (its request began before the server drained) is written at once, alone.
   */
  close(): void {
    this.closed = true;
    this.flush();
  }

  private write(batch: Waiting[]): void {
    let results: AcceptResult[];
    try {
      results = this.store.acceptDeliveries(batch.map((waiting) => waiting.delivery));
    } catch (error) {
      // The whole transaction rolled back. When one delivery's own data was refused, it alone
      // fails: each of the others is written again on its own rather than failed for a neighbour
      // (a host may never redeliver). A store that cannot write fails the whole batch.
      if (batch.length > 1 && error instanceof StoreError && error.code === 'store.bad-input') {
        for (const waiting of batch) this.write([waiting]);
        return;
      }
      for (const waiting of batch) waiting.reject(error);
      return;
    }
    for (const [i, waiting] of batch.entries()) waiting.resolve(results[i]!);
  }
}
