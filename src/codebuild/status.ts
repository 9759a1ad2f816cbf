/**
 * What a build means to the people who pushed: the commit state, a one-line reason, and links to
 * the build and its logs in the AWS console. Plus stopBuild, the one write besides starting.
 */
import {
  type Build,
  type BuildBatch,
  type BuildPhase,
  type CodeBuildClient,
  type StatusType,
  StopBuildCommand,
} from '@aws-sdk/client-codebuild';
import type { CommitState } from '../forge/types.js';
import { CodeBuildError, toCodeBuildError } from './errors.js';

/** A Record, not a switch: a status added to the SDK's union fails the build here. */
const COMMIT_STATE: Record<StatusType, CommitState> = {
  IN_PROGRESS: 'running',
  SUCCEEDED: 'success',
  FAILED: 'failure',
  // The build ran out of time: its commit did not pass (the reason says it timed out).
  TIMED_OUT: 'failure',
  // CodeBuild itself failed; nothing is known about the commit.
  FAULT: 'error',
  STOPPED: 'canceled',
};

/** No status yet is `pending`; a status this code does not know is an `error`, never a pass. */
export function commitStateFor(status: StatusType | string | undefined): CommitState {
  if (status === undefined) return 'pending';
  return Object.hasOwn(COMMIT_STATE, status) ? COMMIT_STATE[status as StatusType] : 'error';
}

const UNSUCCESSFUL = new Set<string>(['FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

function firstUnsuccessfulPhase(build: Build): BuildPhase | undefined {
  return build.phases?.find((p) => p.phaseStatus !== undefined && UNSUCCESSFUL.has(p.phaseStatus));
}

/** The first phase that did not succeed (`BUILD`, `INSTALL`, …), or null. */
export function failedPhase(build: Build): string | null {
  return firstUnsuccessfulPhase(build)?.phaseType ?? null;
}

/** `3m12s`; seconds under a minute (`42s`), hours and minutes past an hour (`1h05m`). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

function oneLine(text: string, max = 80): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  const flat = line.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function buildDurationMs(build: Build): number | null {
  if (build.startTime && build.endTime) return build.endTime.getTime() - build.startTime.getTime();
  const seconds = build.phases?.reduce((sum, p) => sum + (p.durationInSeconds ?? 0), 0);
  return seconds ? seconds * 1000 : null;
}

function phaseDurationMs(phase: BuildPhase): number | null {
  if (phase.durationInSeconds !== undefined) return phase.durationInSeconds * 1000;
  if (phase.startTime && phase.endTime) return phase.endTime.getTime() - phase.startTime.getTime();
  return null;
}

const after = (ms: number | null) => (ms === null ? '' : ` after ${formatDuration(ms)}`);

/** "make exited 2" from CodeBuild's "Error while executing command: make. Reason: exit status 2". */
function commandFailure(message: string): string | null {
  const prefix = 'Error while executing command: ';
  if (!message.startsWith(prefix)) return null;
  const rest = message.slice(prefix.length);
  const cut = rest.lastIndexOf('. Reason: ');
  if (cut < 0) return `${oneLine(rest, 60)} failed`;
  const command = oneLine(rest.slice(0, cut), 60);
  const reason = rest.slice(cut + '. Reason: '.length).trim();
  const exit = /^exit status (\d+)$/.exec(reason);
  return exit ? `${command} exited ${exit[1]}` : `${command} failed (${oneLine(reason, 40)})`;
}

/** What the phase's context says: a failed command's summary, or `CODE: message`. */
function contextDetail(phase: BuildPhase): { text: string; command: boolean } | null {
  const context = phase.contexts?.find((c) => c.statusCode || c.message);
  if (!context) return null;
  const message = context.message ?? '';
  const command = commandFailure(message);
  if (command) return { text: command, command: true };
  return {
    text: oneLine([context.statusCode, message].filter(Boolean).join(': ')),
    command: false,
  };
}

/**
 * One line saying why a build did not pass, e.g. "BUILD failed: make exited 2 after 3m12s";
 * null while it runs or when it succeeded.
 */
export function failureReason(build: Build): string | null {
  const status = build.buildStatus;
  if (status === undefined || status === 'IN_PROGRESS' || status === 'SUCCEEDED') return null;
  const phase = firstUnsuccessfulPhase(build);
  const phaseName =
    phase?.phaseType ?? (build.currentPhase !== 'COMPLETED' ? build.currentPhase : undefined);
  const inPhase = phaseName ? ` in ${phaseName}` : '';
  const detail = phase ? contextDetail(phase) : null;
  const saying = detail ? `: ${detail.text}` : '';
  switch (status) {
    case 'FAILED': {
      if (!phase) return `Build failed${after(buildDurationMs(build))}`;
      const took = after(phaseDurationMs(phase));
      // "BUILD failed: make exited 2 after 3m12s", "DOWNLOAD_SOURCE failed after 4s: CLIENT_ERROR: …"
      return detail?.command
        ? `${phase.phaseType} failed: ${detail.text}${took}`
        : `${phase.phaseType} failed${took}${saying}`;
    }
    case 'TIMED_OUT': {
      const limit = build.timeoutInMinutes ? ` (limit ${build.timeoutInMinutes} min)` : '';
      return `Build timed out${inPhase}${after(buildDurationMs(build))}${limit}`;
    }
    case 'STOPPED':
      return `Build stopped${inPhase}${after(buildDurationMs(build))}`;
    case 'FAULT':
      return `CodeBuild fault${inPhase}${after(buildDurationMs(build))}${saying}`;
    default:
      return `Build ended with status ${status}${inPhase}`;
  }
}

interface ParsedArn {
  partition: string;
  region: string;
  account: string;
  /** `build` or `build-batch`. */
  kind: string;
  project: string;
  uuid: string;
}

/** `arn:aws:codebuild:us-east-1:123456789012:build/project:uuid`. */
function parseArn(arn: string | undefined): ParsedArn | null {
  const match = /^arn:([^:]+):codebuild:([^:]+):(\d+):(build|build-batch)\/([^:]+):(.+)$/.exec(
    arn ?? '',
  );
  if (!match) return null;
  const [, partition, region, account, kind, project, uuid] = match as unknown as string[];
  return { partition, region, account, kind, project, uuid } as ParsedArn;
}

function consoleHost(partition: string, region: string): string {
  if (partition === 'aws-cn') return 'console.amazonaws.cn';
  if (partition === 'aws-us-gov') return 'console.amazonaws-us-gov.com';
  return `${region}.console.aws.amazon.com`;
}

function consoleUrl(arn: string | undefined, id: string | undefined, path: string): string {
  const parsed = parseArn(arn);
  if (!parsed) {
    // No ARN (never so for builds the API returns): the region-less console still finds it.
    const idText = id ?? '';
    const project = idText.split(':')[0] ?? '';
    return `https://console.aws.amazon.com/codesuite/codebuild/projects/${encodeURIComponent(project)}/${path}/${encodeURIComponent(idText)}/`;
  }
  const { partition, region, account, project, uuid } = parsed;
  const id2 = encodeURIComponent(`${project}:${uuid}`);
  return (
    `https://${consoleHost(partition, region)}/codesuite/codebuild/${account}/projects/` +
    `${encodeURIComponent(project)}/${path}/${id2}/?region=${region}`
  );
}

/** The build's page in the CodeBuild console (REFERENCE.md "Logs and links"). */
export function buildConsoleUrl(build: Build): string {
  return consoleUrl(build.arn, build.id, 'build');
}

/** The batch's page in the CodeBuild console. */
export function buildBatchConsoleUrl(batch: BuildBatch): string {
  return consoleUrl(batch.arn, batch.id, 'batch');
}

/** CloudWatch's console encodes path parts twice and writes `%` as `$`. */
function cloudWatchPart(text: string): string {
  return encodeURIComponent(encodeURIComponent(text)).replace(/%/g, '$');
}

/** The build's log in the console: CodeBuild's own deep link, or one made from group/stream. */
export function buildLogsUrl(build: Build): string | null {
  const logs = build.logs;
  if (logs?.deepLink) return logs.deepLink;
  if (!logs?.groupName || !logs.streamName) return null;
  const parsed = parseArn(build.arn);
  const region = parsed?.region ?? 'us-east-1';
  const host = consoleHost(parsed?.partition ?? 'aws', region);
  return (
    `https://${host}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/` +
    `${cloudWatchPart(logs.groupName)}/log-events/${cloudWatchPart(logs.streamName)}`
  );
}

/** Asks CodeBuild to stop the build; resolves with the build as StopBuild returns it. */
export async function stopBuild(client: CodeBuildClient, buildId: string): Promise<Build> {
  let build: Build | undefined;
  try {
    ({ build } = await client.send(new StopBuildCommand({ id: buildId })));
  } catch (error) {
    throw toCodeBuildError(error, `StopBuild ${buildId}`);
  }
  if (!build) {
    throw new CodeBuildError(
      `CodeBuild StopBuild ${buildId} returned no build`,
      'codebuild.api-error',
    );
  }
  return build;
}
