/**
 * What the GitHub runner tells a step about the workflow run, read from its GITHUB_* variables
 * and the event payload file. Only the entry reads process.env; this takes the variables given.
 */
import { readFileSync } from 'node:fs';
import { CodebuildRunError } from '../src/errors.js';

export interface RunnerContext {
  /** `https://github.com`, or a GitHub Enterprise Server's URL. */
  serverUrl: string;
  /** `owner/name`. */
  repository: string;
  /** The commit the workflow runs for (GITHUB_SHA). */
  sha: string;
  eventName: string;
  /** The pull request's head commit on pull_request events, from the event payload. */
  pullRequestHeadSha: string | undefined;
  /** GITHUB_REF: `refs/heads/main`, `refs/tags/v1`, `refs/pull/12/merge`. */
  ref: string;
  /** The pull request's head branch (GITHUB_HEAD_REF) on pull request events. */
  headRef: string | undefined;
  /** The commit before a push (the push payload's `before`), when the event has one. */
  before: string | undefined;
  /** The checked-out repository (GITHUB_WORKSPACE), if any. */
  workspace: string | undefined;
  /** A link to this workflow run, for the summary. */
  runUrl: string | undefined;
}

export class RunnerContextError extends CodebuildRunError {
  constructor(message: string) {
    super(message, 'action.runner-context');
  }
}

interface EventPayload {
  pull_request?: { head?: { sha?: unknown } };
  before?: unknown;
}

function readEvent(eventPath: string | undefined): EventPayload {
  if (!eventPath) return {};
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(eventPath, 'utf8'));
  } catch (error) {
    throw new RunnerContextError(
      `cannot read the event payload GITHUB_EVENT_PATH=${eventPath}: ${(error as Error).message}; ` +
        'set source-version to the commit to build',
    );
  }
  return payload !== null && typeof payload === 'object' ? (payload as EventPayload) : {};
}

const FULL_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
const fullSha = (value: unknown) =>
  typeof value === 'string' && FULL_SHA.test(value) ? value : undefined;

export function readRunnerContext(
  env: Readonly<Record<string, string | undefined>>,
): RunnerContext {
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const repository = env.GITHUB_REPOSITORY ?? '';
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  // On pull_request GITHUB_SHA is a merge commit GitHub made; the head is what the author pushed
  // and what the pull request's checks are about. pull_request_target is left alone on purpose:
  // it runs with the base's secrets, so building the head there must be an explicit choice.
  // Only these two events carry what is read from the payload.
  const event =
    eventName === 'pull_request' || eventName === 'push' ? readEvent(env.GITHUB_EVENT_PATH) : {};
  const pullRequestHeadSha =
    eventName === 'pull_request' ? fullSha(event.pull_request?.head?.sha) : undefined;
  const runId = env.GITHUB_RUN_ID;
  return {
    serverUrl,
    repository,
    sha: env.GITHUB_SHA ?? '',
    eventName,
    pullRequestHeadSha,
    ref: env.GITHUB_REF ?? '',
    headRef: env.GITHUB_HEAD_REF || undefined,
    before: eventName === 'push' ? fullSha(event.before) : undefined,
    workspace: env.GITHUB_WORKSPACE || undefined,
    runUrl:
      runId && repository
        ? `${serverUrl}/${repository}/actions/runs/${runId}${env.GITHUB_RUN_ATTEMPT ? `/attempts/${env.GITHUB_RUN_ATTEMPT}` : ''}`
        : undefined,
  };
}

/** The clone URL of this repository on this server (github.com or GHES alike). */
export function repositoryCloneUrl(context: RunnerContext): string {
  if (!/^[^/\s]+\/[^/\s]+$/.test(context.repository)) {
    throw new RunnerContextError(
      `GITHUB_REPOSITORY ${JSON.stringify(context.repository)} is not owner/name: run this ` +
        'step in a GitHub Actions job, or use source: project',
    );
  }
  return `${context.serverUrl}/${context.repository}.git`;
}

/** The commit to build: source-version, else the PR head on pull_request, else GITHUB_SHA. */
export function commitToBuild(
  context: RunnerContext,
  sourceVersion: string | undefined,
): { version: string; why: string } {
  if (sourceVersion) return { version: sourceVersion, why: 'source-version' };
  if (context.pullRequestHeadSha) {
    return { version: context.pullRequestHeadSha, why: 'the pull request head' };
  }
  if (context.sha) return { version: context.sha, why: "the workflow's commit" };
  throw new RunnerContextError(
    'GITHUB_SHA is not set, so there is no commit to build: run this step in a GitHub Actions ' +
      'job, or set source-version',
  );
}

/** GitHub.com's repositories are CodeBuild's GITHUB source; any other server is GHES. */
export function githubSourceType(context: RunnerContext): 'GITHUB' | 'GITHUB_ENTERPRISE' {
  return /^https:\/\/github\.com$/i.test(context.serverUrl) ? 'GITHUB' : 'GITHUB_ENTERPRISE';
}
