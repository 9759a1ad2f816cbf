/**
 * The words on commit statuses: what a finished build means, and what a build that could not
 * start needs from the user. Every description is one line; drivers cut it to the host's limit,
 * so the part that matters comes first.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import { BuildspecError } from '../buildspec/index.js';
import {
  CodeBuildError,
  commitStateFor,
  failureReason,
  formatDuration,
  InvalidBuildInputError,
  isTransient,
  ProjectNotFoundError,
  QueueFullError,
} from '../codebuild/index.js';
import { CodebuildRunError, HostApiError } from '../errors.js';
import type { CommitState } from '../forge/types.js';
import { SecretReadError } from '../secrets.js';

export function pendingDescription(projectName: string): string {
  return `build queued: ${projectName}`;
}

export function supersededDescription(sha: string): string {
  return `superseded by ${sha.slice(0, 7)}`;
}

/** The commit state and one-line reason of a build that has ended. */
export function finalOutcome(build: Build): { state: CommitState; description: string } {
  const state = commitStateFor(build.buildStatus);
  if (state === 'success') {
    const took =
      build.startTime && build.endTime
        ? ` in ${formatDuration(build.endTime.getTime() - build.startTime.getTime())}`
        : '';
    return { state, description: `BUILD succeeded${took}` };
  }
  return {
    state,
    description: failureReason(build) ?? `Build ended with status ${build.buildStatus}`,
  };
}

/** Ended by StopBuild's answer: the build had already ended on its own (not STOPPED) or not. */
export function endedOnItsOwn(build: Build): boolean {
  const status = build.buildStatus;
  return status !== undefined && status !== 'IN_PROGRESS' && status !== 'STOPPED';
}

export type StartFailure =
  /** Another try will not help: the status says what to fix. */
  | { kind: 'user'; description: string }
  /** Throttled, queue full, network, a 5xx: back off and try again (bounded). */
  | { kind: 'retry'; message: string };

/** First line, whitespace folded: a status description is one line. */
export function oneLine(text: string): string {
  return (text.split('\n').find((line) => line.trim() !== '') ?? '').replace(/\s+/g, ' ').trim();
}

/** Error codes of user errors raised before StartBuild (buildspec file, size limits, plan). */
const USER_ERROR_CODES = /^(buildspec|config|git|pipeline|plan)\./;
/** Reading the buildspec file failed in a way another try may not: the network, a deadline. */
const TRANSIENT_ERROR_CODES = new Set(['git.unreachable', 'git.timeout', 'git.failed']);

export function classifyStartFailure(
  error: unknown,
  where: { projectName: string; ruleName: string },
): StartFailure {
  const message = error instanceof Error ? oneLine(error.message) : String(error);
  if (error instanceof ProjectNotFoundError) {
    return {
      kind: 'user',
      description: `CodeBuild project "${where.projectName}" not found: create it, or fix the project of rule "${where.ruleName}" (or the AWS region)`,
    };
  }
  if (error instanceof InvalidBuildInputError) {
    return {
      kind: 'user',
      description: `CodeBuild refused the build: ${oneLine(error.serviceMessage ?? error.message)}`,
    };
  }
  if (error instanceof BuildspecError) return { kind: 'user', description: message };
  if (error instanceof QueueFullError || isTransient(error)) return { kind: 'retry', message };
  if (error instanceof CodeBuildError) return { kind: 'retry', message };
  if (error instanceof SecretReadError) return { kind: 'retry', message };
  if (error instanceof HostApiError) {
    const transient = error.status === 0 || error.status === 429 || error.status >= 500;
    return transient
      ? { kind: 'retry', message }
      : {
          kind: 'user',
          description: `reading the buildspec failed: ${error.host} answered HTTP ${error.status}: ${oneLine(error.hostMessage)}`,
        };
  }
  if (error instanceof CodebuildRunError && TRANSIENT_ERROR_CODES.has(error.code)) {
    return { kind: 'retry', message };
  }
  if (error instanceof CodebuildRunError && USER_ERROR_CODES.test(error.code)) {
    return { kind: 'user', description: message };
  }
  return { kind: 'retry', message };
}

export function couldNotStart(message: string): string {
  return `could not start: ${message}`;
}
