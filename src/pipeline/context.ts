/** What every step gets from the worker running it. */
import type { Build } from '@aws-sdk/client-codebuild';
import type { HostConfig } from '../config.js';
import type { Logger } from '../deps.js';
import type { JobRecord, JobStep } from '../store/index.js';
import type { PipelineTiming, TriggerDeps } from './types.js';

export interface PipelineContext {
  deps: TriggerDeps;
  timing: PipelineTiming;
  random: () => number;
  buildUrl(build: Build): string;
  /** A job moved to a step that is due now: look for due jobs without waiting for the poll. */
  wake(): void;
  /** The job no longer needs its build watched here (it was superseded). */
  unwatch(jobId: string): void;
}

export function jobLogger(logger: Logger, job: JobRecord): Logger {
  return logger.child({
    jobId: job.id,
    hostId: job.hostId,
    repo: job.repo,
    sha: job.sha,
    project: job.projectName,
    ...(job.buildId ? { buildId: job.buildId } : {}),
  });
}

/** The host a job came from, or null when the config no longer has it (reloaded since). */
export function hostOf(ctx: PipelineContext, job: JobRecord): HostConfig | null {
  return Object.hasOwn(ctx.deps.config.hosts, job.hostId)
    ? ctx.deps.config.hosts[job.hostId]!
    : null;
}

/**
 * Records a failed try of `step`: due again after the back-off, or, once `maxAttempts` tries
 * failed, returns false so the caller gives up its own way.
 */
export function retryOrGiveUp(
  ctx: PipelineContext,
  job: JobRecord,
  step: JobStep,
  message: string,
  maxAttempts: number,
): boolean {
  const attempt = job.attempts + 1;
  if (attempt >= maxAttempts) return false;
  const now = ctx.deps.clock.now();
  const delay = backoff(ctx, attempt);
  ctx.deps.store.retryLater(job.id, step, message, now + delay, now);
  return true;
}

export function backoff(ctx: PipelineContext, attempt: number): number {
  const { retryBaseMs, retryMaxMs } = ctx.timing;
  const exponential = retryBaseMs * 2 ** Math.max(0, attempt - 1);
  return Math.round(Math.min(retryMaxMs, exponential) * (0.5 + ctx.random() / 2));
}

/** Where a status links when there is no build: the server's page, else the repository. */
export function fallbackLink(ctx: PipelineContext, job: JobRecord): string {
  return job.buildUrl ?? ctx.deps.config.publicUrl ?? job.event.repo.webUrl;
}
