/**
 * Cancelling superseded builds: a newer push to the same branch (same host, repo, rule and
 * project) moves the older jobs to `stop`, and the `stop` step stops their builds before their
 * final status says "canceled: superseded by <sha>".
 *
 * A job at `start` or `post-pending` is claimed before it is moved, so no other worker is half-way
 * through starting its build or posting its pending status (which would land after the canceled
 * one). A job that cannot be claimed is busy right now: the pass runs again at the newer job's
 * next steps and each renewal of its watch. A job at `watch` holds no request in flight, so a
 * compare-and-set move is enough; its watch in this process is dropped.
 */

import type { Build } from '@aws-sdk/client-codebuild';
import { CodeBuildError, isTransient } from '../codebuild/errors.js';
import { stopBuild, toCodeBuildError } from '../codebuild/index.js';
import type { JobPatch, JobRecord } from '../store/index.js';
import { jobLogger, type PipelineContext, retryOrGiveUp } from './context.js';
import { endedOnItsOwn, finalOutcome, supersededDescription } from './describe.js';

/** Moves the older jobs `job` supersedes toward `stop`; synchronous store calls only. */
export function supersedeOlder(ctx: PipelineContext, job: JobRecord): void {
  const { store, clock } = ctx.deps;
  const log = jobLogger(ctx.deps.logger, job);
  const canceled = {
    finalState: 'canceled' as const,
    finalDescription: supersededDescription(job.sha),
  };
  let older: JobRecord[];
  try {
    older = store.supersededBy(job.id);
  } catch (error) {
    log.error({ err: error }, 'cannot list the jobs this push supersedes');
    return;
  }
  let moved = 0;
  for (const old of older) {
    const now = clock.now();
    let done = false;
    try {
      if (old.step === 'start' || old.step === 'post-pending') {
        if (!store.claim(old.id, old.step, now, now + ctx.timing.stepLeaseMs)) {
          log.debug({ superseded: old.id, step: old.step }, 'superseded job is busy; later');
          continue;
        }
        // Never started (or not known to be): nothing to stop, only the status to post.
        done =
          old.step === 'start'
            ? store.advance(old.id, 'start', 'post-final', canceled, now)
            : store.advance(old.id, 'post-pending', 'stop', canceled, now);
      } else if (old.step === 'watch') {
        done = store.advance(old.id, 'watch', 'stop', canceled, now);
        if (done) ctx.unwatch(old.id);
      }
    } catch (error) {
      log.error({ err: error, superseded: old.id }, 'cannot cancel a superseded job');
      continue;
    }
    if (done) {
      moved++;
      log.info({ superseded: old.id, supersededSha: old.sha }, 'older build superseded');
    }
  }
  if (moved > 0) ctx.wake();
}

/** The `stop` step: StopBuild, then on to `post-final` with "canceled" (or how it really ended). */
export async function runStop(ctx: PipelineContext, job: JobRecord): Promise<void> {
  const { store, clock } = ctx.deps;
  const log = jobLogger(ctx.deps.logger, job);
  let build: Build | null = null;
  try {
    build = await stopBuild(ctx.deps.codebuild, job.buildId!);
  } catch (caught) {
    const error = toCodeBuildError(caught, `StopBuild ${job.buildId}`);
    const gone = error.awsErrorName === 'ResourceNotFoundException';
    if (
      !gone &&
      isTransient(error) &&
      retryOrGiveUp(ctx, job, 'stop', error.message, ctx.timing.stopAttempts)
    ) {
      log.warn({ err: error }, 'StopBuild failed; will retry');
      return;
    }
    if (!gone) {
      log.error(
        { err: error, awsError: error instanceof CodeBuildError ? error.awsErrorName : null },
        'could not stop the superseded build; reporting it canceled anyway',
      );
    }
  }
  // It ended before the stop reached it: its real outcome is worth more than "canceled".
  const patch: JobPatch = {};
  if (build && endedOnItsOwn(build)) {
    const outcome = finalOutcome(build);
    patch.finalState = outcome.state;
    patch.finalDescription = outcome.description;
  }
  if (store.advance(job.id, 'stop', 'post-final', patch, clock.now())) {
    log.info({ finalState: patch.finalState ?? job.finalState }, 'superseded build stopped');
    ctx.wake();
  }
}
