/** What the pipeline takes from its caller, and the timings it runs by. */
import type { Build, CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { BuildWatcher } from '../codebuild/index.js';
import type { Config, SecretSource } from '../config.js';
import type { Clock, Fetch, Logger } from '../deps.js';
import type { CommitState } from '../forge/types.js';
import type { RepoFileReader } from '../git/read-file.js';
import type { Store } from '../store/index.js';

export interface TriggerSecrets {
  /** The value `source` points to (an environment variable or Secrets Manager). */
  resolve(source: SecretSource): Promise<string>;
  /** Forget a cached value: the host refused the token (401), it may have been rotated. */
  invalidate(source: SecretSource): void;
}

export interface TriggerMetrics {
  statusPosted(host: string, state: CommitState): void;
  statusFailed(host: string): void;
  buildStarted(project: string): void;
}

export interface TriggerDeps {
  config: Config;
  store: Store;
  codebuild: CodeBuildClient;
  /** The ONE watcher every job in flight shares: one BatchGetBuilds call covers 100 builds. */
  watcher: BuildWatcher;
  secrets: TriggerSecrets;
  /**
   * Reads the buildspec file at the pushed commit, and finds the commit of an annotated tag whose
   * payload gave the tag object (a RepoFileReader).
   */
  repoFiles: Pick<RepoFileReader, 'readFile' | 'resolveCommit'>;
  fetch: Fetch;
  clock: Clock;
  logger: Logger;
  /** Link for statuses; default buildConsoleUrl(build). The local CodeBuild gives its own. */
  buildUrl?: (build: Build) => string;
  metrics?: TriggerMetrics;
  /** Steps run at once; default 8. Watching a build takes no slot. */
  concurrency?: number;
  /** Timings and budgets; the defaults suit a server, tests shorten them. */
  timing?: Partial<PipelineTiming>;
  /** For the back-off jitter; default Math.random. */
  random?: () => number;
}

export interface PipelineTiming {
  /** How often the store is asked for due jobs when nothing wakes the worker. */
  pollIntervalMs: number;
  /**
   * How long a claim on a step lasts: a worker killed mid-step leaves its job due again after
   * this. Longer than any step takes (a status post retries for at most `hostRetryBudgetMs`).
   */
  stepLeaseMs: number;
  /** A watched job's claim, renewed while its build runs: another process resumes it after. */
  watchLeaseMs: number;
  /** First retry delay of a failed step; doubles per attempt, with jitter, up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Tries of StartBuild (throttled, queue full, network) before the status says it could not start. */
  startAttempts: number;
  /** Tries of posting one status (each try retries 429/5xx itself) before giving up on it. */
  postAttempts: number;
  /** Tries of StopBuild before the cancel is reported without it. */
  stopAttempts: number;
  /** Tries of watching a build that fail with an error other than "not found". */
  watchAttempts: number;
  /**
   * How long one status post may retry 429/5xx within a step. Short, so a host that is down holds
   * a slot only briefly: the longer waits are the store's back-off, which takes no slot.
   */
  hostRetryBudgetMs: number;
  /** stop() waits this long for the steps in progress. */
  stopGraceMs: number;
}

export const DEFAULT_TIMING: PipelineTiming = {
  pollIntervalMs: 1_000,
  stepLeaseMs: 120_000,
  watchLeaseMs: 60_000,
  retryBaseMs: 2_000,
  retryMaxMs: 300_000,
  startAttempts: 10,
  postAttempts: 8,
  stopAttempts: 6,
  watchAttempts: 10,
  hostRetryBudgetMs: 5_000,
  stopGraceMs: 10_000,
};
