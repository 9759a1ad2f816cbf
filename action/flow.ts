/**
 * What a run of the Action carries from step to step, and the steps the single-build flow
 * (run.ts) and the batch flow (batch.ts) share: starting with retries, stopping on cancel, the
 * job summary.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { Clock, Logger } from '../src/deps.js';
import { awsHint } from './aws-clients.js';
import type { FollowTiming } from './follow.js';
import type { ActionIo } from './io.js';
import { type BuildKind, stopRun, withRetries } from './lifecycle.js';
import type { ReadFile, StartPlan } from './request.js';
import type { RunnerContext } from './runner-context.js';
import type { InputReader, Settings } from './settings.js';

export interface RunDeps {
  codebuild: CodeBuildClient;
  /** Made on first use: the log is read only after the start. */
  logs: () => Promise<CloudWatchLogsClient>;
  clock: Clock;
  logger: Logger;
  io: ActionIo;
  input: InputReader;
  env: Readonly<Record<string, string | undefined>>;
  readFile?: ReadFile;
  timing?: Partial<FollowTiming>;
}

/** One run of the Action, once its inputs are read. */
export interface Flow {
  deps: RunDeps;
  settings: Settings;
  plan: StartPlan;
  context: RunnerContext;
  /** Paced and counted (call-budget.ts): every status call of the run goes through it. */
  codebuild: CodeBuildClient;
  /** Counted, not paced: a batch's member reads, one per status look that saw members end. */
  unpaced: CodeBuildClient;
  signal: AbortSignal;
}

/** State the post step reads (post.ts): the run to stop if this step was killed. */
export const STATE = { id: 'run-id', kind: 'run-kind' } as const;

/** StartBuild may be retried for this long (throttling under a matrix of jobs). */
const START_DEADLINE_MS = 120_000;
/** Stopping must end well inside the runner's 7.5 s between SIGINT and SIGTERM. */
export const STOP_DEADLINE_MS = 5_000;

export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? error.cause : undefined;
  return `${message}${awsHint(error) || awsHint(cause)}`;
}

/** StartBuild/StartBuildBatch with retries; a cancel during it still gets the run stopped. */
export async function startWithRetries<T>(flow: Flow, start: () => Promise<T>): Promise<T> {
  const { io, clock } = flow.deps;
  return withRetries(start, {
    clock,
    deadlineMs: START_DEADLINE_MS,
    signal: flow.signal,
    onRetry: (error, delay) =>
      io.info(`${describeError(error)} Retrying in ${(delay / 1000).toFixed(1)} s.`),
  });
}

/** The job was cancelled: stop the run (stop-on-cancel), fast. Returns the exit code. */
export async function onCancel(flow: Flow, kind: BuildKind, id: string, url: string) {
  const { io, clock } = flow.deps;
  if (!flow.settings.stopOnCancel) {
    io.warning(`The job was cancelled; the ${kind} goes on (stop-on-cancel: false): ${url}`);
    io.saveState(STATE.id, '');
    return 1;
  }
  io.info(`The job was cancelled: stopping ${kind} ${id}`);
  try {
    await stopRun(flow.unpaced, kind, id, { clock, deadlineMs: STOP_DEADLINE_MS });
    io.saveState(STATE.id, '');
    io.info(`Stopped ${kind} ${id}.`);
  } catch (error) {
    io.warning(
      `Could not stop ${kind} ${id}: ${describeError(error)} The post step tries again; ` +
        `else stop it in the console: ${url}`,
    );
  }
  return 1;
}

export async function writeSummary(io: ActionIo, markdown: string): Promise<void> {
  try {
    await io.writeSummary(markdown);
  } catch (error) {
    io.warning(`Could not write the job summary: ${describeError(error)}`);
  }
}
