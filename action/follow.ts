/**
 * Following one build to its end: its log streamed live, its end noticed within seconds, with
 * fewer status calls than a poll every 30 s.
 *
 * - The log is tailed from the start at the location CodeBuild will use (the project's log
 *   settings as StartBuild returned them, else `/aws/codebuild/<project>` and the build's uuid),
 *   so the first lines show without waiting for a status call to name the stream. If a status
 *   call later names another stream before any line was read, the tail moves there.
 * - While the log shows the build busy, status calls are rare (the first after `firstLookMs`, then
 *   at 1× the build's age up to 60 s): they only catch an end the log cannot show. A log line of
 *   the last phases (isNearEndLine) starts fast status calls at once: the end is seen ~2 s after.
 * - Without a log (hide-logs, or GetLogEvents refused) status calls follow the build's age: at
 *   5 s, then 1× the age up to 30 s (5, 10, 20, 40, 70, 100 s …), inside the budget.
 * - After the end the log is read up to the last phase's closing lines (LogEnd), so no line is
 *   lost and no fixed grace is waited; without those lines, `logGraceMs` after the end.
 * All status calls go through a CallBudget (call-budget.ts); throttling is absorbed by the watcher.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { Build, CodeBuildClient } from '@aws-sdk/client-codebuild';
import {
  BuildWatcher,
  isNearEndLine,
  type LogLine,
  logLocation,
  type PollPolicy,
  tailBuildLogs,
} from '../src/codebuild/index.js';
import type { Clock, Logger } from '../src/deps.js';
import { expectedLogLocation, LogEnd, type LogLocation, observeReads } from './log-end.js';

export interface FollowTiming {
  firstLookMs: number;
  logPolicy: Partial<PollPolicy>;
  blindFirstLookMs: number;
  blindPolicy: Partial<PollPolicy>;
  logPollMs: number;
  logGraceMs: number;
}

export const DEFAULT_TIMING: FollowTiming = {
  firstLookMs: 20_000,
  logPolicy: { floorMs: 2_000, fastMs: 2_000, slowMs: 60_000, startRamp: 1, endRamp: 0.5 },
  blindFirstLookMs: 5_000,
  blindPolicy: { floorMs: 2_000, fastMs: 3_000, slowMs: 30_000, startRamp: 1, endRamp: 0.5 },
  logPollMs: 2_000,
  logGraceMs: 8_000,
};

export interface FollowDeps {
  codebuild: CodeBuildClient;
  logs: CloudWatchLogsClient;
  clock: Clock;
  logger: Logger;
}

export interface FollowOptions {
  /** The build as StartBuild returned it. */
  started: Build;
  showLogs: boolean;
  onLines: (lines: LogLine[]) => void;
  onUpdate?: (build: Build) => void;
  /** Reading the log failed for good (e.g. no logs:GetLogEvents): following goes on without it. */
  onLogsUnavailable?: (error: unknown) => void;
  /** Aborting stops following: followBuild rejects with the signal's reason. */
  signal: AbortSignal;
  timing?: Partial<FollowTiming>;
}

export function followBuild(deps: FollowDeps, options: FollowOptions): Promise<Build> {
  return new Follower(deps, options).run();
}

class Follower {
  readonly #timing: FollowTiming;
  readonly #id: string;
  #final!: { resolve(build: Build): void; reject(error: unknown): void };
  readonly #finalPromise: Promise<Build>;
  #finalBuild: Build | undefined;
  #watcher: BuildWatcher | undefined;
  #watchAbort = new AbortController();
  #lookTimer = new AbortController();
  #tailAbort = new AbortController();
  #tailLocation: LogLocation | null = null;
  #tailDone: Promise<void> = Promise.resolve();
  #linesRead = 0;
  readonly #logEnd = new LogEnd();

  constructor(
    private readonly deps: FollowDeps,
    private readonly options: FollowOptions,
  ) {
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
    this.#id = options.started.id ?? '';
    this.#finalPromise = new Promise<Build>((resolve, reject) => {
      this.#final = { resolve, reject };
    });
    this.#finalPromise.catch(() => {});
  }

  async run(): Promise<Build> {
    const { signal, showLogs, started } = this.options;
    const onAbort = () => this.#final.reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      signal.throwIfAborted();
      const location = showLogs ? expectedLogLocation(started) : null;
      if (location) {
        this.#startTail(location);
        this.#lookAfter(this.#timing.firstLookMs, this.#timing.logPolicy);
      } else {
        this.#lookAfter(this.#timing.blindFirstLookMs, this.#timing.blindPolicy);
      }
      const build = await this.#finalPromise;
      // The tail ends by itself: at the last phase's line, or after the grace. It may have moved.
      let tail: Promise<void>;
      do {
        tail = this.#tailDone;
        await tail;
      } while (tail !== this.#tailDone);
      return build;
    } finally {
      signal.removeEventListener('abort', onAbort);
      this.#lookTimer.abort();
      this.#watchAbort.abort();
      this.#tailAbort.abort();
      this.#watcher?.close();
    }
  }

  /** The first status call after `ms`, unless the log asks for one sooner. */
  #lookAfter(ms: number, policy: Partial<PollPolicy>): void {
    this.#lookTimer.abort();
    const timer = new AbortController();
    this.#lookTimer = timer;
    const wake = AbortSignal.any([timer.signal, this.options.signal]);
    this.deps.clock.sleep(ms, wake).then(
      () => this.#watch(policy),
      () => {},
    );
  }

  #watch(policy: Partial<PollPolicy>): void {
    if (this.#watcher || this.#finalBuild) return;
    this.#lookTimer.abort();
    const { codebuild, clock, logger } = this.deps;
    const watcher = new BuildWatcher({ client: codebuild, clock, logger, policy });
    const abort = new AbortController();
    this.#watcher = watcher;
    this.#watchAbort = abort;
    watcher.watch(this.#id, { signal: abort.signal, onUpdate: (b) => this.#update(b) }).then(
      (build) => this.#finish(build),
      (error: unknown) => {
        if (!abort.signal.aborted) this.#final.reject(error);
      },
    );
  }

  /** Following goes on without the log: status calls by the build's age from now on. */
  #goBlind(): void {
    this.#tailAbort.abort();
    if (this.#finalBuild) return;
    this.#watchAbort.abort();
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#watch(this.#timing.blindPolicy);
  }

  #update(build: Build): void {
    this.options.onUpdate?.(build);
    const actual = logLocation(build);
    const tailing = this.#tailLocation;
    if (!actual || !tailing || this.#linesRead > 0) return;
    if (actual.groupName !== tailing.groupName || actual.streamName !== tailing.streamName) {
      this.deps.logger.info({ ...actual }, 'the log is elsewhere than expected; tailing it there');
      this.#tailAbort.abort();
      this.#startTail(actual);
    }
  }

  #finish(build: Build): void {
    this.#finalBuild = build;
    this.#final.resolve(build);
    if (this.#logEnd.reached(build)) this.#tailAbort.abort();
  }

  #nearEnd(): void {
    if (this.#finalBuild) return;
    this.#watch(this.#timing.logPolicy);
    this.#watcher?.expedite(this.#id);
  }

  #onLines(lines: LogLine[]): void {
    this.#linesRead += lines.length;
    let near = false;
    for (const { message } of lines) {
      this.#logEnd.observe(message);
      if (isNearEndLine(message)) near = true;
    }
    this.options.onLines(lines);
    if (this.#logEnd.reached(this.#finalBuild)) this.#tailAbort.abort();
    else if (near) this.#nearEnd();
  }

  #startTail(location: LogLocation): void {
    const abort = new AbortController();
    this.#tailAbort = abort;
    this.#tailLocation = location;
    const { logs, clock, logger } = this.deps;
    const started = this.options.started;
    const build: Build = { ...started, logs: { ...started.logs, ...location } };
    const observed = observeReads(logs, (empty) => {
      if (this.#logEnd.reached(this.#finalBuild, empty)) abort.abort();
    });
    this.#tailDone = tailBuildLogs({
      logs: observed,
      clock,
      logger,
      currentBuild: () => build,
      finished: this.#finalPromise,
      onLines: (lines) => this.#onLines(lines),
      signal: AbortSignal.any([abort.signal, this.options.signal]),
      pollMs: this.#timing.logPollMs,
      graceMs: this.#timing.logGraceMs,
    }).catch((error: unknown) => {
      if (abort.signal.aborted) return;
      this.options.onLogsUnavailable?.(error);
      this.#goBlind();
    });
  }
}
