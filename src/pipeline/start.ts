/**
 * The `start` step: the StartBuild request (buildspec read, clone prelude injected), sent with an
 * idempotency token so a step retried after a crash gets the build the first try started, then
 * `post-pending` with the build's id and link. A problem the user must fix goes straight to
 * `post-final` with an `error` status that names it; throttling, a full queue or a network
 * failure is retried with back-off, and after `startAttempts` tries reported as "could not start".
 */
import type { Build } from '@aws-sdk/client-codebuild';
import { startBuild, stopBuild } from '../codebuild/index.js';
import type { Logger } from '../deps.js';
import type { PlannedBuild } from '../plan.js';
import type { JobRecord } from '../store/index.js';
import { supersedeOlder } from './cancel.js';
import { jobLogger, type PipelineContext, retryOrGiveUp } from './context.js';
import { classifyStartFailure, couldNotStart, oneLine } from './describe.js';
import { prepareStartBuild } from './prepare.js';
import { readStoredPlan } from './stored-plan.js';

export async function runStart(ctx: PipelineContext, job: JobRecord): Promise<void> {
  const log = jobLogger(ctx.deps.logger, job);
  let plan: PlannedBuild | null = null;
  let build: Build;
  try {
    plan = readStoredPlan(job.id, job.plan);
    const request = await prepareStartBuild(ctx.deps, job.hostId, job.event, plan);
    build = await startBuild(ctx.deps.codebuild, request);
  } catch (error) {
    failed(ctx, job, log, error);
    return;
  }
  ctx.deps.metrics?.buildStarted(job.projectName);
  const { store, clock } = ctx.deps;
  const buildUrl = ctx.buildUrl(build);
  const patch = { buildId: build.id!, buildArn: build.arn ?? null, buildUrl };
  if (store.advance(job.id, 'start', 'post-pending', patch, clock.now())) {
    log.info({ buildId: build.id, buildUrl }, 'build started');
    ctx.wake();
    if (plan.cancelSuperseded) supersedeOlder(ctx, job);
    return;
  }
  // Moved while StartBuild was in flight. Another worker that started the same build (same
  // idempotency token) recorded this id; otherwise the job was canceled and this build is
  // nobody's: stop it rather than leave it running unreported.
  const now = store.getJob(job.id);
  if (now?.buildId === build.id) return;
  log.warn(
    { buildId: build.id, step: now?.step },
    'job moved on while its build started; stopping that build',
  );
  try {
    await stopBuild(ctx.deps.codebuild, build.id!);
  } catch (error) {
    log.error(
      { err: error, buildId: build.id },
      'could not stop a build no job owns; stop it by hand',
    );
  }
}

function failed(ctx: PipelineContext, job: JobRecord, log: Logger, error: unknown): void {
  const failure = classifyStartFailure(error, {
    projectName: job.projectName,
    ruleName: job.ruleName,
  });
  const { store, clock } = ctx.deps;
  if (failure.kind === 'retry') {
    if (retryOrGiveUp(ctx, job, 'start', failure.message, ctx.timing.startAttempts)) {
      log.warn({ err: error, attempt: job.attempts + 1 }, 'StartBuild failed; will retry');
      return;
    }
    log.error({ err: error, attempts: job.attempts + 1 }, 'could not start the build; giving up');
  } else {
    log.warn({ err: error }, 'the build cannot start until the user fixes this');
  }
  const finalDescription =
    failure.kind === 'user' ? oneLine(failure.description) : couldNotStart(failure.message);
  if (
    store.advance(
      job.id,
      'start',
      'post-final',
      { finalState: 'error', finalDescription },
      clock.now(),
    )
  ) {
    ctx.wake();
  }
}
