/**
 * Starting and stopping, with the retries that keep a throttled or flaky API from failing the
 * step: throttling (by error name) is retried with back-off until a deadline, other transient
 * errors (5xx, dropped connections) a few times; any other error is final at once.
 */
import {
  BatchGetBuildBatchesCommand,
  BatchGetBuildsCommand,
  type CodeBuildClient,
  StopBuildBatchCommand,
} from '@aws-sdk/client-codebuild';
import { isThrottling, isTransient, toCodeBuildError } from '../src/codebuild/errors.js';
import { stopBuild } from '../src/codebuild/status.js';
import type { Clock } from '../src/deps.js';

export interface RetryOptions {
  clock: Clock;
  /** Give up retrying (the last error is thrown) this long after the first attempt. */
  deadlineMs: number;
  /** No new attempt once this aborts (an attempt in flight is let finish). */
  signal?: AbortSignal;
  onRetry?: (error: unknown, delayMs: number) => void;
}

/** Attempts for transient errors other than throttling (5xx, dropped connections). */
const MAX_OTHER_ATTEMPTS = 4;

/** Our typed errors keep the SDK's error as their cause. */
function transient(error: unknown): boolean {
  return isTransient(error) || (error instanceof Error && isTransient(error.cause));
}

function throttled(error: unknown): boolean {
  return isThrottling(error) || (error instanceof Error && isThrottling(error.cause));
}

export async function withRetries<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const { clock, deadlineMs, signal } = options;
  const giveUpAt = clock.now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const delay = Math.min(8_000, 500 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
      // Throttling passes with time; a connection refused again and again will not.
      const again = throttled(error) || (transient(error) && attempt < MAX_OTHER_ATTEMPTS);
      if (!again || signal?.aborted || clock.now() + delay > giveUpAt) throw error;
      options.onRetry?.(error, delay);
      await clock.sleep(delay, signal).catch(() => {});
      if (signal?.aborted) throw error;
    }
  }
}

export type BuildKind = 'build' | 'batch';

/** Stops a build or a batch; resolves when CodeBuild accepted the stop. */
export async function stopRun(
  client: CodeBuildClient,
  kind: BuildKind,
  id: string,
  options: RetryOptions,
): Promise<void> {
  await withRetries(async () => {
    if (kind === 'build') {
      await stopBuild(client, id);
      return;
    }
    try {
      await client.send(new StopBuildBatchCommand({ id }));
    } catch (error) {
      throw toCodeBuildError(error, `StopBuildBatch ${id}`);
    }
  }, options);
}

/** The status of a build or batch now: one call. */
export async function currentStatus(
  client: CodeBuildClient,
  kind: BuildKind,
  id: string,
): Promise<string | undefined> {
  try {
    if (kind === 'build') {
      const out = await client.send(new BatchGetBuildsCommand({ ids: [id] }));
      return out.builds?.[0]?.buildStatus;
    }
    const out = await client.send(new BatchGetBuildBatchesCommand({ ids: [id] }));
    return out.buildBatches?.[0]?.buildBatchStatus;
  } catch (error) {
    throw toCodeBuildError(error, kind === 'build' ? 'BatchGetBuilds' : 'BatchGetBuildBatches');
  }
}
