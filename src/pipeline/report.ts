/**
 * The steps that post commit statuses: `post-pending` (build queued, with its link) and
 * `post-final` (the outcome). A host that is down or rate-limiting is retried with back-off
 * through the store, so it never holds up other jobs; a status the host refuses for good is
 * logged at error with the host's words and counted, and the job moves on.
 *
 * A final status is posted, then the job advanced to `done` at once: a process killed between
 * the two posts it again when resumed (the same state and text, which hosts take as a repeat).
 */
import type { Logger } from '../deps.js';
import type { CommitState } from '../forge/types.js';
import type { JobRecord, JobStep } from '../store/index.js';
import { statusShaOf } from './commit.js';
import { fallbackLink, hostOf, jobLogger, type PipelineContext, retryOrGiveUp } from './context.js';
import { pendingDescription } from './describe.js';
import { type PostResult, postCommitStatus } from './host-api.js';

export async function runPostPending(ctx: PipelineContext, job: JobRecord): Promise<void> {
  const log = jobLogger(ctx.deps.logger, job);
  const next = await post(ctx, job, log, {
    state: 'pending',
    description: pendingDescription(job.projectName),
    maxAttempts: ctx.timing.postAttempts,
  });
  if (next === 'retry-later') return;
  if (ctx.deps.store.advance(job.id, 'post-pending', 'watch', {}, ctx.deps.clock.now())) {
    ctx.wake();
  }
}

export async function runPostFinal(ctx: PipelineContext, job: JobRecord): Promise<void> {
  const log = jobLogger(ctx.deps.logger, job);
  const next = await post(ctx, job, log, {
    // The store refuses post-final without a final state; 'error' only guards a hand-edited row.
    state: job.finalState ?? 'error',
    description: job.finalDescription ?? 'the build ended',
    maxAttempts: ctx.timing.postAttempts,
  });
  if (next === 'retry-later') return;
  if (ctx.deps.store.advance(job.id, 'post-final', 'done', {}, ctx.deps.clock.now())) {
    log.info({ state: job.finalState }, 'job done');
  }
}

interface Posting {
  state: CommitState;
  description: string;
  maxAttempts: number;
}

/** Posts the status; says whether the job moves on or was rescheduled to try again. */
async function post(
  ctx: PipelineContext,
  job: JobRecord,
  log: Logger,
  posting: Posting,
): Promise<'move-on' | 'retry-later'> {
  const { metrics } = ctx.deps;
  const step: JobStep = job.step;
  const { state, description } = posting;
  const host = hostOf(ctx, job);
  if (host === null) {
    log.error(
      { state },
      `host "${job.hostId}" is no longer in the config: the ${state} status cannot be posted`,
    );
    metrics?.statusFailed(job.hostId);
    return 'move-on';
  }
  const target = await statusShaOf(ctx.deps, host, job, log);
  const result: PostResult =
    'retry' in target
      ? { outcome: 'retry', message: target.retry }
      : await postCommitStatus(
          { deps: ctx.deps, host, hostId: job.hostId, retryBudgetMs: ctx.timing.hostRetryBudgetMs },
          { repo: { fullName: job.event.repo.fullName, id: job.event.repo.id }, sha: target.sha },
          { state, context: job.statusContext, description, targetUrl: fallbackLink(ctx, job) },
        );
  switch (result.outcome) {
    case 'posted':
      metrics?.statusPosted(job.hostId, state);
      log.info({ state, description }, 'commit status posted');
      return 'move-on';
    case 'no-token':
      log.debug({ state }, `host "${job.hostId}" has no apiToken: no commit status is posted`);
      return 'move-on';
    case 'refused':
      metrics?.statusFailed(job.hostId);
      log.error(
        { state, hostMessage: result.message },
        `the host refused the ${state} commit status; moving on without it`,
      );
      return 'move-on';
    case 'retry':
      if (retryOrGiveUp(ctx, job, step, result.message, posting.maxAttempts)) {
        log.warn(
          { state, attempt: job.attempts + 1, hostMessage: result.message },
          `posting the ${state} commit status failed; will retry`,
        );
        return 'retry-later';
      }
      metrics?.statusFailed(job.hostId);
      log.error(
        { state, attempts: job.attempts + 1, hostMessage: result.message },
        `posting the ${state} commit status failed ${job.attempts + 1} times; giving up on it`,
      );
      return 'move-on';
  }
}
