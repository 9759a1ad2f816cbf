/**
 * The worker: carries every job in the store through its steps, from any process. It asks the
 * store for due jobs (on wake(), and every `pollIntervalMs`), claims each before doing its step,
 * and runs at most `concurrency` steps at once. Watching a build takes no slot: the job is handed
 * to the one shared BuildWatcher, and its claim is renewed every `watchLeaseMs` while it runs, so
 * a process that dies leaves it to be watched again by the next one.
 *
 * Stop the worker before closing the watcher or the store.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import { BuildNotFoundError, buildConsoleUrl } from '../codebuild/index.js';
import type { Logger } from '../deps.js';
import type { JobRecord } from '../store/index.js';
import { runStop, supersedeOlder } from './cancel.js';
import { jobLogger, type PipelineContext, retryOrGiveUp } from './context.js';
import { finalOutcome, oneLine } from './describe.js';
import { runPostFinal, runPostPending } from './report.js';
import { runStart } from './start.js';
import { DEFAULT_TIMING, type PipelineTiming, type TriggerDeps } from './types.js';

/** Due jobs read per look beyond the free slots: watch renewals take no slot. */
const EXTRA_DUE_JOBS = 200;
/** A store that keeps failing (a corrupt row) is reported at most this often. */
const STORE_ERROR_LOG_INTERVAL_MS = 60_000;

export class Worker {
  readonly #deps: TriggerDeps;
  readonly #timing: PipelineTiming;
  readonly #concurrency: number;
  readonly #logger: Logger;
  readonly #ctx: PipelineContext;
  /** Steps in progress here, by job id. */
  readonly #active = new Map<string, Promise<void>>();
  /** Builds watched here, by job id: aborting drops the watch. */
  readonly #watching = new Map<string, AbortController>();
  #wakeup = new AbortController();
  #loop: Promise<void> | null = null;
  #stopping = false;
  #lastStoreErrorAt = Number.NEGATIVE_INFINITY;

  constructor(deps: TriggerDeps) {
    this.#deps = deps;
    this.#timing = { ...DEFAULT_TIMING, ...deps.timing };
    this.#concurrency = Math.max(1, Math.floor(deps.concurrency ?? 8));
    this.#logger = deps.logger.child({ component: 'worker' });
    const buildUrl = deps.buildUrl ?? buildConsoleUrl;
    this.#ctx = {
      deps: { ...deps, logger: this.#logger },
      timing: this.#timing,
      random: deps.random ?? Math.random,
      buildUrl,
      wake: () => this.wake(),
      unwatch: (jobId) => this.#unwatch(jobId),
    };
  }

  /** Resumes every unfinished job from its recorded step, then keeps going until stop(). */
  start(): void {
    if (this.#loop !== null || this.#stopping) return;
    this.#loop = this.#run();
  }

  /** A delivery was accepted (or a step finished): look for due jobs now. */
  wake(): void {
    this.#wakeup.abort();
  }

  /**
   * Takes no new step, drops its watches (their claims lapse, so the next worker watches them),
   * waits up to `stopGraceMs` for the steps in progress, then resolves.
   */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    for (const controller of this.#watching.values()) {
      controller.abort(new Error('the worker stopped'));
    }
    this.#watching.clear();
    await this.#loop;
    if (this.#active.size === 0) return;
    const grace = new AbortController();
    const steps = Promise.allSettled([...this.#active.values()]);
    const timedOut = await Promise.race([
      steps.then(() => false),
      this.#deps.clock.sleep(this.#timing.stopGraceMs, grace.signal).then(
        () => true,
        () => false,
      ),
    ]);
    grace.abort();
    if (timedOut) {
      this.#logger.warn(
        { steps: this.#active.size },
        'steps still running after the stop grace; their claims lapse and another worker resumes them',
      );
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      const wakeup = new AbortController();
      this.#wakeup = wakeup;
      this.#look();
      if (wakeup.signal.aborted) continue;
      await this.#deps.clock.sleep(this.#timing.pollIntervalMs, wakeup.signal).catch(() => {});
    }
  }

  /** One look at the store: claim due jobs into free slots, renew the watched ones. */
  #look(): void {
    const { store, clock } = this.#deps;
    let jobs: JobRecord[];
    try {
      jobs = store.dueJobs(clock.now(), this.#concurrency + EXTRA_DUE_JOBS);
    } catch (error) {
      this.#storeFailed(error, 'cannot read the due jobs from the store; retrying', true);
      return;
    }
    for (const job of jobs) {
      if (this.#stopping) return;
      if (this.#active.has(job.id)) continue;
      try {
        if (job.step === 'watch') {
          this.#renewWatch(job);
          continue;
        }
        if (this.#active.size >= this.#concurrency) continue;
        const now = clock.now();
        if (!store.claim(job.id, job.step, now, now + this.#timing.stepLeaseMs)) continue;
      } catch (error) {
        this.#storeFailed(error, `cannot claim job ${job.id}`);
        continue;
      }
      this.#runStep(job);
    }
  }

  #runStep(job: JobRecord): void {
    const run = this.#step(job)
      .catch((error: unknown) => this.#stepThrew(job, error))
      .finally(() => {
        this.#active.delete(job.id);
        this.wake();
      });
    this.#active.set(job.id, run);
  }

  #step(job: JobRecord): Promise<void> {
    switch (job.step) {
      case 'start':
        return runStart(this.#ctx, job);
      case 'post-pending':
        return runPostPending(this.#ctx, job).then(() => this.#supersede(job));
      case 'stop':
        return runStop(this.#ctx, job);
      case 'post-final':
        return runPostFinal(this.#ctx, job);
      case 'watch':
      case 'done':
        return Promise.resolve();
    }
  }

  /** A bug or a store failure inside a step: logged, and the job tried again after a back-off. */
  #stepThrew(job: JobRecord, error: unknown): void {
    jobLogger(this.#logger, job).error(
      { err: error, step: job.step },
      'a step failed unexpectedly',
    );
    try {
      const message = `unexpected: ${error instanceof Error ? error.message : String(error)}`;
      // Never gives up here: the claim's lapse would bring the job back anyway.
      retryOrGiveUp(this.#ctx, job, job.step, message, Number.POSITIVE_INFINITY);
    } catch (storeError) {
      this.#storeFailed(storeError, `cannot reschedule job ${job.id}; its claim will lapse`);
    }
  }

  /** Re-runs the supersede pass for jobs that cancel older builds (see cancel.ts). */
  #supersede(job: JobRecord): void {
    if (job.plan.cancelSuperseded !== true) return;
    supersedeOlder(this.#ctx, job);
  }

  #renewWatch(job: JobRecord): void {
    const now = this.#deps.clock.now();
    if (!this.#deps.store.claim(job.id, 'watch', now, now + this.#timing.watchLeaseMs)) return;
    if (!this.#watching.has(job.id)) this.#watch(job);
    this.#supersede(job);
  }

  #watch(job: JobRecord): void {
    const controller = new AbortController();
    this.#watching.set(job.id, controller);
    const log = jobLogger(this.#logger, job);
    log.debug({}, 'watching the build');
    this.#deps.watcher
      .watch(job.buildId!, { signal: controller.signal })
      .then(
        (build) => this.#ended(job, build, log),
        (error: unknown) => {
          if (!controller.signal.aborted) this.#watchFailed(job, error, log);
        },
      )
      .catch((error: unknown) => this.#storeFailed(error, `cannot record the end of job ${job.id}`))
      .finally(() => {
        if (this.#watching.get(job.id) === controller) this.#watching.delete(job.id);
      });
  }

  #ended(job: JobRecord, build: Build, log: Logger): void {
    const { state, description } = finalOutcome(build);
    const patch = {
      finalState: state,
      finalDescription: description,
      buildUrl: this.#ctx.buildUrl(build),
    };
    if (this.#deps.store.advance(job.id, 'watch', 'post-final', patch, this.#deps.clock.now())) {
      log.info({ buildStatus: build.buildStatus, state }, 'build ended');
      this.wake();
    }
  }

  #watchFailed(job: JobRecord, error: unknown, log: Logger): void {
    const { store } = this.#deps;
    if (error instanceof BuildNotFoundError) {
      const finalDescription = `CodeBuild no longer has build ${job.buildId}: it was deleted or is in another region`;
      log.error({ err: error }, 'the watched build does not exist');
      this.#endWatchWithError(job, finalDescription);
      return;
    }
    if (this.#stopping) return;
    const current = store.getJob(job.id);
    if (current?.step !== 'watch') return;
    const message = error instanceof Error ? oneLine(error.message) : String(error);
    if (retryOrGiveUp(this.#ctx, current, 'watch', message, this.#timing.watchAttempts)) {
      log.warn(
        { err: error, attempt: current.attempts + 1 },
        'watching the build failed; will retry',
      );
      return;
    }
    log.error({ err: error }, 'watching the build keeps failing; giving up');
    this.#endWatchWithError(job, `could not watch the build: ${message}`);
  }

  /** The build's outcome cannot be known: report `error` with why, unless another step moved on. */
  #endWatchWithError(job: JobRecord, finalDescription: string): void {
    const { store, clock } = this.#deps;
    const patch = { finalState: 'error' as const, finalDescription };
    if (store.advance(job.id, 'watch', 'post-final', patch, clock.now())) this.wake();
  }

  #unwatch(jobId: string): void {
    const controller = this.#watching.get(jobId);
    if (!controller) return;
    this.#watching.delete(jobId);
    controller.abort(new Error('the job was superseded'));
  }

  /** Logged at error; a failure repeated every look (a corrupt row) at most once a minute. */
  #storeFailed(error: unknown, message: string, repeating = false): void {
    if (repeating) {
      const now = this.#deps.clock.now();
      if (now - this.#lastStoreErrorAt < STORE_ERROR_LOG_INTERVAL_MS) return;
      this.#lastStoreErrorAt = now;
    }
    this.#logger.error({ err: error }, message);
  }
}
