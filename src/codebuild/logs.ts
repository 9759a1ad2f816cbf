/**
 * Tailing a build's CloudWatch log stream while it runs, and a little after: CloudWatch receives
 * lines some seconds after the build writes them, so the last lines come after the build ended.
 */
import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Build } from '@aws-sdk/client-codebuild';
import type { Clock, Logger } from '../deps.js';
import { awsErrorName, isTransient, LogsUnavailableError } from './errors.js';

export interface LogLine {
  /** Epoch milliseconds. */
  timestamp: number;
  /** The line without its trailing newline. */
  message: string;
}

export interface TailOptions {
  logs: CloudWatchLogsClient;
  clock: Clock;
  logger?: Logger;
  /** The newest state of the build (the watcher's onUpdate keeps it), for its log location. */
  currentBuild: () => Build | undefined;
  /** Settles when the build has ended; reading goes on for `graceMs` after. */
  finished: Promise<unknown>;
  onLines: (lines: LogLine[]) => void;
  /** Stops tailing quietly: the promise resolves. */
  signal?: AbortSignal;
  /** Between reads once caught up; default 2 s. */
  pollMs?: number;
  /** How long to keep reading after `finished`; default 8 s. */
  graceMs?: number;
}

/** The build's stream, once CodeBuild has made it (before PROVISIONING ends the ARN reads null). */
export function logLocation(
  build: Build | undefined,
): { groupName: string; streamName: string } | null {
  const groupName = build?.logs?.groupName;
  const streamName = build?.logs?.streamName;
  const known = (name: string | undefined): name is string => !!name && name !== 'null';
  return known(groupName) && known(streamName) ? { groupName, streamName } : null;
}

/**
 * True for the log lines CodeBuild writes when only seconds of work remain: POST_BUILD done,
 * UPLOAD_ARTIFACTS or FINALIZING entered, or a phase failed (INSTALL and PRE_BUILD failures skip
 * to the end). The Action passes these to BuildWatcher.expedite() to see the end at once.
 */
export function isNearEndLine(message: string): boolean {
  return (
    /Phase complete: POST_BUILD\b/.test(message) ||
    /Entering phase (UPLOAD_ARTIFACTS|FINALIZING)\b/.test(message) ||
    /Phase complete: \w+ State: (FAILED|FAULT|TIMED_OUT|STOPPED)\b/.test(message)
  );
}

function toLine(event: { timestamp?: number; message?: string }): LogLine {
  return { timestamp: event.timestamp ?? 0, message: (event.message ?? '').replace(/\r?\n$/, '') };
}

/**
 * Tails a build's CloudWatch log stream: waits until the build has logs.groupName/streamName,
 * pages GetLogEvents with startFromHead + nextForwardToken (the same token back means the end for
 * now), and keeps reading for `graceMs` after `finished` settles so the last lines are not lost.
 * Rejects with LogsUnavailableError when reading is refused (retrying would not help).
 */
export async function tailBuildLogs(options: TailOptions): Promise<void> {
  const { logs, clock, currentBuild, onLines, signal } = options;
  const logger = options.logger;
  const pollMs = options.pollMs ?? 2_000;
  const graceMs = options.graceMs ?? 8_000;

  let finishedAt: number | undefined;
  const finishedWake = new AbortController();
  const markFinished = () => {
    finishedAt ??= clock.now();
    finishedWake.abort();
  };
  options.finished.then(markFinished, markFinished);

  /** Waits `ms`, or less when the build finishes meanwhile (so its end is read at once). */
  const pause = async (ms: number) => {
    const signals = [signal, finishedAt === undefined ? finishedWake.signal : undefined];
    const wake = AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
    await clock.sleep(Math.max(0, ms), wake).catch(() => {});
  };

  let location = logLocation(currentBuild());
  while (!location) {
    if (signal?.aborted) return;
    const build = currentBuild();
    if (build?.logs?.cloudWatchLogs?.status === 'DISABLED') {
      logger?.info({ build: build.id }, 'CloudWatch logs are disabled for this build');
      return;
    }
    location = logLocation(build);
    if (location) break;
    if (finishedAt !== undefined) {
      logger?.info({ build: build?.id }, 'the build ended before it had a log stream');
      return;
    }
    await pause(pollMs);
  }

  const { groupName, streamName } = location;
  let token: string | undefined;
  let failures = 0;
  for (;;) {
    if (signal?.aborted) return;
    let caughtUp: boolean;
    try {
      const out = await logs.send(
        new GetLogEventsCommand({
          logGroupName: groupName,
          logStreamName: streamName,
          startFromHead: true,
          nextToken: token,
        }),
        { abortSignal: signal },
      );
      failures = 0;
      const lines = (out.events ?? []).map(toLine);
      if (lines.length > 0) onLines(lines);
      const next = out.nextForwardToken;
      caughtUp = next === undefined || next === token;
      token = next ?? token;
    } catch (error) {
      if (signal?.aborted) return;
      if (awsErrorName(error) === 'ResourceNotFoundException') {
        // The location is known but the stream is not created yet.
        caughtUp = true;
      } else if (isTransient(error)) {
        failures++;
        const delay = Math.min(30_000, pollMs * 2 ** failures);
        logger?.warn(
          { error: awsErrorName(error), retryInMs: delay },
          'GetLogEvents failed; backing off',
        );
        await pause(delay);
        continue;
      } else {
        throw new LogsUnavailableError(groupName, streamName, error);
      }
    }
    if (!caughtUp) continue;
    const now = clock.now();
    if (finishedAt !== undefined && now >= finishedAt + graceMs) return;
    await pause(finishedAt === undefined ? pollMs : Math.min(pollMs, finishedAt + graceMs - now));
  }
}
