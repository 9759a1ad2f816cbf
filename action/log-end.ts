/**
 * Where a build's log is and when it has all been read. CodeBuild ends each phase with a "Phase
 * complete" line and a "Phase context" line; the last phase that ran tells where the log ends,
 * so it is read to its end without waiting a fixed grace (follow.ts, and batch members here).
 */
import { type CloudWatchLogsClient, GetLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import type { Build } from '@aws-sdk/client-codebuild';
import { type LogLine, logLocation, tailBuildLogs } from '../src/codebuild/index.js';
import type { Clock, Logger } from '../src/deps.js';

/** Phases that write a "Phase complete" line to the build's log, in order. */
const LOGGED_PHASES = [
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'UPLOAD_ARTIFACTS',
];
const PHASE_COMPLETE = /Phase complete: ([A-Z_]+) State:/;
const PHASE_CONTEXT = /Phase context status code:/;

/**
 * What a log shows of its own end. CodeBuild ends each phase with "Phase complete: X" and a
 * "Phase context status code: … Message: …" line; once the build has ended, its log is read to
 * the end when its last phase's pair is read (or its "Phase complete" and an empty read after).
 */
export class LogEnd {
  readonly #complete = new Set<string>();
  readonly #closed = new Set<string>();
  #pending: string | null = null;

  observe(message: string): void {
    const complete = PHASE_COMPLETE.exec(message);
    if (complete) {
      this.#complete.add(complete[1]!);
      this.#pending = complete[1]!;
      return;
    }
    if (this.#pending !== null && PHASE_CONTEXT.test(message)) this.#closed.add(this.#pending);
    this.#pending = null;
  }

  /** `emptyRead`: a read just came back with nothing new. */
  reached(build: Build | undefined, emptyRead = false): boolean {
    const last = build ? lastLoggedPhase(build) : undefined;
    if (last === undefined) return false;
    return this.#closed.has(last) || (emptyRead && this.#complete.has(last));
  }
}

export type LogLocation = { groupName: string; streamName: string };

/** Where CodeBuild will write this build's log, from what StartBuild returned. */
export function expectedLogLocation(build: Build): LogLocation | null {
  const known = logLocation(build);
  if (known) return known;
  const config = build.logs?.cloudWatchLogs;
  if (config?.status === 'DISABLED' || !build.id) return null;
  const colon = build.id.indexOf(':');
  const project = build.projectName ?? build.id.slice(0, colon);
  const uuid = build.id.slice(colon + 1);
  return {
    groupName: config?.groupName || `/aws/codebuild/${project}`,
    // A configured stream name is a prefix: <prefix>/<uuid>.
    streamName: config?.streamName ? `${config.streamName}/${uuid}` : uuid,
  };
}

/** The same client, telling `onRead` after each GetLogEvents whether it came back empty. */
export function observeReads(
  logs: CloudWatchLogsClient,
  onRead: (empty: boolean) => void,
): CloudWatchLogsClient {
  const send = async (command: object, options?: object) => {
    const out = (await (logs.send as (c: object, o?: object) => Promise<unknown>)(
      command,
      options,
    )) as { events?: unknown[] };
    if (command instanceof GetLogEventsCommand) onRead(!out.events?.length);
    return out;
  };
  return new Proxy(logs, {
    get: (target, property, receiver) =>
      property === 'send' ? send : Reflect.get(target, property, receiver),
  });
}

/**
 * Reads the whole log of a build that has ended (a batch member), from its first line to its
 * last phase's "Phase complete" line; `graceMs` more when that line does not come.
 */
export async function readEndedLog(
  deps: { logs: CloudWatchLogsClient; clock: Clock; logger: Logger },
  build: Build,
  onLines: (lines: LogLine[]) => void,
  options: { graceMs?: number; signal?: AbortSignal } = {},
): Promise<void> {
  if (!logLocation(build)) return;
  const end = new LogEnd();
  const abort = new AbortController();
  const logs = observeReads(deps.logs, (empty) => {
    if (end.reached(build, empty)) abort.abort();
  });
  await tailBuildLogs({
    logs,
    clock: deps.clock,
    logger: deps.logger,
    currentBuild: () => build,
    finished: Promise.resolve(),
    onLines: (lines) => {
      for (const { message } of lines) end.observe(message);
      onLines(lines);
      if (end.reached(build)) abort.abort();
    },
    signal: options.signal ? AbortSignal.any([abort.signal, options.signal]) : abort.signal,
    pollMs: 1_000,
    graceMs: options.graceMs ?? 5_000,
  });
}

/** The last phase whose "Phase complete" line the log of `build` (ended) must hold. */
function lastLoggedPhase(build: Build): string | undefined {
  const ran = (build.phases ?? []).filter(
    (p) => p.phaseType && LOGGED_PHASES.includes(p.phaseType) && p.phaseStatus,
  );
  return ran.at(-1)?.phaseType;
}
