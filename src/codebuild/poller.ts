/**
 * One polling loop for every build (or build batch) in flight. BuildWatcher and BatchWatcher
 * (watcher.ts) are this loop with a source: how to fetch up to 100 items and read their state.
 * The polling policy (when to look again, how to back off) is in policy.ts.
 */
import type { Clock, Logger } from '../deps.js';
import { BuildNotFoundError, isThrottling, isTransient, toCodeBuildError } from './errors.js';
import { backoffDelay, DEFAULT_POLL_POLICY, type PollPolicy, pollInterval } from './policy.js';

export interface PollSource<T> {
  noun: 'build' | 'build batch';
  operation: string;
  fetch(ids: string[], signal: AbortSignal): Promise<{ found: T[]; notFound: string[] }>;
  idOf(item: T): string | undefined;
  isFinal(item: T): boolean;
  /** A key that changes when the item enters a phase near its end; undefined before that. */
  nearEndKey(item: T): string | undefined;
  /** Changes whenever subscribers should hear of the item (status, phase, …). */
  changeKey(item: T): string;
  startedAt(item: T): number | undefined;
}

export interface WatchOptions<T> {
  /** Called on the first look and on every change of status or phase. */
  onUpdate?: (item: T) => void;
  /** Stops watching this item: its id leaves the polls, and watch() rejects with the reason. */
  signal?: AbortSignal;
  /** From past builds of the project: the interval is short again around this age. */
  expectedDurationMs?: number;
}

export interface PollerDeps {
  clock: Clock;
  logger: Logger;
  random?: () => number;
  maxBatch?: number;
  policy?: Partial<PollPolicy>;
}

interface Subscriber<T> {
  options: WatchOptions<T>;
  lastKey?: string;
  resolve(item: T): void;
  reject(error: unknown): void;
  detach(): void;
}

interface Entry<T> {
  id: string;
  subscribers: Set<Subscriber<T>>;
  subscribedAt: number;
  dueAt: number;
  last?: T;
  nearEndKey?: string;
  nearEndAt?: number;
  expectedDurationMs?: number;
}

export class BatchPoller<T> {
  readonly #source: PollSource<T>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #random: () => number;
  readonly #maxBatch: number;
  readonly #policy: PollPolicy;
  readonly #entries = new Map<string, Entry<T>>();
  readonly #closed = new AbortController();
  #wake = new AbortController();
  #running = false;
  #calls = 0;
  #lastRoundAt = Number.NEGATIVE_INFINITY;
  #backoffUntil = Number.NEGATIVE_INFINITY;
  #failedRounds = 0;

  constructor(deps: PollerDeps, source: PollSource<T>) {
    this.#source = source;
    this.#clock = deps.clock;
    this.#logger = deps.logger;
    this.#random = deps.random ?? Math.random;
    this.#maxBatch = Math.min(100, Math.max(1, Math.floor(deps.maxBatch ?? 100)));
    this.#policy = { ...DEFAULT_POLL_POLICY, ...deps.policy };
  }

  /** Items being watched (each polled once, however many subscribers it has). */
  get inFlight(): number {
    return this.#entries.size;
  }

  /** API calls made so far, failed ones included. */
  get calls(): number {
    return this.#calls;
  }

  watch(id: string, options: WatchOptions<T> = {}): Promise<T> {
    if (this.#closed.signal.aborted) return Promise.reject(this.#closed.signal.reason);
    if (options.signal?.aborted) return Promise.reject(options.signal.reason);
    if (typeof id !== 'string' || id === '') {
      return Promise.reject(new TypeError(`watch() needs a ${this.#source.noun} id`));
    }
    return new Promise<T>((resolve, reject) => {
      let entry = this.#entries.get(id);
      if (!entry) {
        const now = this.#clock.now();
        entry = { id, subscribers: new Set(), subscribedAt: now, dueAt: now };
        this.#entries.set(id, entry);
      }
      if (options.expectedDurationMs !== undefined) {
        entry.expectedDurationMs = Math.min(
          entry.expectedDurationMs ?? Infinity,
          options.expectedDurationMs,
        );
      }
      const owner = entry;
      const onAbort = () => {
        this.#unsubscribe(owner, subscriber);
        reject(options.signal?.reason);
      };
      const subscriber: Subscriber<T> = {
        options,
        resolve,
        reject,
        detach: () => options.signal?.removeEventListener('abort', onAbort),
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      entry.subscribers.add(subscriber);
      const known = entry.last;
      if (known !== undefined) {
        // Joining a build already watched: tell what is known now, not at the next poll.
        subscriber.lastKey = this.#source.changeKey(known);
        queueMicrotask(() => this.#notify(subscriber, known));
      }
      this.#start();
    });
  }

  /** The item is near its end (its log shows the last phases): poll it fast from now on. */
  expedite(id: string): void {
    const entry = this.#entries.get(id);
    if (!entry) return;
    const now = this.#clock.now();
    entry.nearEndAt = now;
    entry.dueAt = Math.min(entry.dueAt, now + this.#policy.fastMs);
    this.#wake.abort();
  }

  /** Stops the loop; pending watches reject. */
  close(): void {
    if (this.#closed.signal.aborted) return;
    const reason = new Error(`the ${this.#source.noun} watcher was closed`);
    this.#closed.abort(reason);
    for (const entry of this.#entries.values()) this.#settle(entry, (s) => s.reject(reason));
  }

  #unsubscribe(entry: Entry<T>, subscriber: Subscriber<T>): void {
    entry.subscribers.delete(subscriber);
    subscriber.detach();
    if (entry.subscribers.size === 0 && this.#entries.get(entry.id) === entry) {
      this.#entries.delete(entry.id);
      this.#wake.abort();
    }
  }

  #settle(entry: Entry<T>, each: (subscriber: Subscriber<T>) => void): void {
    if (this.#entries.get(entry.id) === entry) this.#entries.delete(entry.id);
    for (const subscriber of entry.subscribers) {
      subscriber.detach();
      each(subscriber);
    }
    entry.subscribers.clear();
  }

  #start(): void {
    if (this.#running) {
      this.#wake.abort();
      return;
    }
    this.#running = true;
    this.#run()
      .catch((error: unknown) => {
        for (const entry of [...this.#entries.values()])
          this.#settle(entry, (s) => s.reject(error));
      })
      .finally(() => {
        this.#running = false;
        if (this.#entries.size > 0 && !this.#closed.signal.aborted) this.#start();
      });
  }

  async #run(): Promise<void> {
    // Let watch() calls made together (a server resuming 250 builds) join the first round.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.#entries.size > 0 && !this.#closed.signal.aborted) {
      const wait = this.#nextRoundAt() - this.#clock.now();
      if (wait > 0) {
        this.#wake = new AbortController();
        const signal = AbortSignal.any([this.#wake.signal, this.#closed.signal]);
        await this.#clock.sleep(wait, signal).catch(() => {});
        continue;
      }
      await this.#round();
    }
  }

  #nextRoundAt(): number {
    let due = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries.values()) due = Math.min(due, entry.dueAt);
    return Math.max(due, this.#lastRoundAt + this.#policy.floorMs, this.#backoffUntil);
  }

  async #round(): Promise<void> {
    const now = this.#clock.now();
    this.#lastRoundAt = now;
    const byDue = [...this.#entries.values()].sort((a, b) => a.dueAt - b.dueAt);
    const dueCount = byDue.filter((e) => e.dueAt <= now).length;
    const take = Math.ceil(dueCount / this.#maxBatch) * this.#maxBatch;
    const chosen = byDue.slice(0, take).map((e) => e.id);
    for (let i = 0; i < chosen.length; i += this.#maxBatch) {
      const ids = chosen.slice(i, i + this.#maxBatch);
      this.#calls++;
      try {
        const { found, notFound } = await this.#source.fetch(ids, this.#closed.signal);
        this.#failedRounds = 0;
        this.#apply(found, notFound);
      } catch (error) {
        if (this.#closed.signal.aborted) return;
        if (isTransient(error)) {
          this.#backOff(error, ids.length);
          return;
        }
        const failure = toCodeBuildError(error, this.#source.operation);
        this.#logger.error({ err: failure, ids: ids.length }, `${this.#source.operation} failed`);
        for (const id of ids) {
          const entry = this.#entries.get(id);
          if (entry) this.#settle(entry, (s) => s.reject(failure));
        }
      }
    }
  }

  #backOff(error: unknown, ids: number): void {
    this.#failedRounds++;
    const delay = backoffDelay(this.#policy, this.#failedRounds, this.#random());
    this.#backoffUntil = this.#clock.now() + delay;
    this.#logger.warn(
      {
        operation: this.#source.operation,
        throttled: isThrottling(error),
        error: (error as { name?: string }).name,
        ids,
        retryInMs: Math.round(delay),
        failedRounds: this.#failedRounds,
      },
      `${this.#source.operation} ${isThrottling(error) ? 'throttled' : 'failed'}; backing off`,
    );
  }

  #apply(found: T[], notFound: string[]): void {
    const now = this.#clock.now();
    for (const id of notFound) {
      const entry = this.#entries.get(id);
      if (entry)
        this.#settle(entry, (s) => s.reject(new BuildNotFoundError(id, this.#source.noun)));
    }
    for (const item of found) {
      const id = this.#source.idOf(item);
      const entry = id === undefined ? undefined : this.#entries.get(id);
      if (!entry) continue;
      entry.last = item;
      const key = this.#source.changeKey(item);
      for (const subscriber of [...entry.subscribers]) {
        if (subscriber.lastKey === key) continue;
        subscriber.lastKey = key;
        this.#notify(subscriber, item);
      }
      if (this.#source.isFinal(item)) {
        this.#settle(entry, (s) => s.resolve(item));
        continue;
      }
      entry.dueAt = now + this.#interval(entry, item, now);
    }
  }

  #notify(subscriber: Subscriber<T>, item: T): void {
    try {
      subscriber.options.onUpdate?.(item);
    } catch (error) {
      this.#logger.warn({ err: error }, 'an onUpdate callback threw; watching goes on');
    }
  }

  #interval(entry: Entry<T>, item: T, now: number): number {
    const nearKey = this.#source.nearEndKey(item);
    if (nearKey !== undefined && nearKey !== entry.nearEndKey) {
      entry.nearEndKey = nearKey;
      entry.nearEndAt = now;
    }
    const startedAt = this.#source.startedAt(item) ?? entry.subscribedAt;
    const { interval, nearEndAt } = pollInterval(
      this.#policy,
      { now, startedAt, nearEndAt: entry.nearEndAt, expectedDurationMs: entry.expectedDurationMs },
      this.#random(),
    );
    entry.nearEndAt = nearEndAt;
    return interval;
  }
}
