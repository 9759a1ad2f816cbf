/**
 * One polling loop for every build (or build batch) in flight. BuildWatcher and BatchWatcher
 * (watcher.ts) are this loop with a source: how to fetch up to 100 items and read their state.
 *
 * Polling policy
 * - A round asks for every item that is due, 100 ids a call, and fills the spare places of those
 *   calls with the items due soonest: a call costs the same for 1 id or 100, so 250 builds cost
 *   at most 3 calls a round, and rounds are never closer than `floorMs` (2 s) whatever is due.
 * - After each look an item is due again after
 *     interval = clamp(ramp × (now − anchor), fastMs, slowMs), ±10 % jitter
 *   The anchor is the build's start (ramp 1): polls at 0, 3, 6, 12, 24, 48, 96 s, then every
 *   60 s. The first seconds are when the phase and the log stream appear, which the Action shows.
 * - Near the end the anchor moves to the moment that became known (ramp 0.5: 3, 3, 3, 4.5, 7 s…):
 *   a poll saw a phase from POST_BUILD on (or a failed phase, which skips to the end), the
 *   caller's expected duration is reached, or the caller said so with expedite() (the Action
 *   does when the log tail shows the last phases). A build ending within ~6 s of that signal is
 *   seen ending within 3 s; a later end within about a third of the wait.
 * - Cost, one build, against the official action's poll every 30 s (2 calls a minute): 7 calls
 *   in the first 1.5 min, 1 a minute after, 3-4 at the end. A 10-minute build costs ~19 calls
 *   to its 21, each later minute half as much, and the end is seen in seconds instead of up to
 *   30 s. Many builds share calls.
 * - A throttled round (by error name) or a transient failure (5xx, timeout, dropped connection)
 *   delays every next round by min(backoffMaxMs, backoffBaseMs × 2^(n−1)) × [0.5, 1) at random,
 *   n = failed rounds in a row; subscribers only wait. Any other error fails the subscribers of
 *   that call with a typed error. Ids reported not found fail their own subscribers only.
 */
import type { Clock, Logger } from '../deps.js';
import { BuildNotFoundError, isThrottling, isTransient, toCodeBuildError } from './errors.js';

export interface PollPolicy {
  floorMs: number;
  fastMs: number;
  slowMs: number;
  startRamp: number;
  endRamp: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const DEFAULT_POLL_POLICY: PollPolicy = {
  floorMs: 2_000,
  fastMs: 3_000,
  slowMs: 60_000,
  startRamp: 1,
  endRamp: 0.5,
  backoffBaseMs: 2_000,
  backoffMaxMs: 60_000,
};

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
    const { backoffBaseMs, backoffMaxMs } = this.#policy;
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (this.#failedRounds - 1));
    const delay = Math.max(this.#policy.floorMs, ceiling * (0.5 + this.#random() / 2));
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
    const p = this.#policy;
    const nearKey = this.#source.nearEndKey(item);
    if (nearKey !== undefined && nearKey !== entry.nearEndKey) {
      entry.nearEndKey = nearKey;
      entry.nearEndAt = now;
    }
    const startedAt = this.#source.startedAt(item) ?? entry.subscribedAt;
    const expectedNearAt =
      entry.expectedDurationMs === undefined
        ? undefined
        : startedAt + entry.expectedDurationMs - 2 * p.fastMs;
    if (
      expectedNearAt !== undefined &&
      now >= expectedNearAt &&
      (entry.nearEndAt ?? -1) < expectedNearAt
    ) {
      entry.nearEndAt = now;
    }
    const near = entry.nearEndAt !== undefined;
    const elapsed = now - (near ? entry.nearEndAt! : startedAt);
    const ramp = near ? p.endRamp : p.startRamp;
    let interval = Math.min(p.slowMs, Math.max(p.fastMs, ramp * elapsed));
    interval *= 0.9 + 0.2 * this.#random();
    if (expectedNearAt !== undefined && now < expectedNearAt) {
      interval = Math.min(interval, expectedNearAt - now);
    }
    return Math.max(interval, 0);
  }
}
