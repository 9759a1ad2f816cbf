/**
 * A test-only crash hook: `CODEBUILD_RUN_CRASH_AT=<point>[:<n>]` makes the server SIGKILL itself
 * the n-th time (default the first) it reaches that point, so the end-to-end tests can show that
 * a restart finishes every accepted delivery with exactly one build and one final status.
 * Unset (always, outside tests), every function here returns its input unchanged.
 *
 * `CODEBUILD_RUN_TEST_TIMING` (JSON, e.g. `{"stepLeaseMs":2000}`) shortens the worker's timings
 * so a restarted server resumes a crashed step in seconds, not minutes. Also test-only.
 *
 * Points: after-accept (the delivery is committed, not yet answered), after-start (StartBuild
 * answered), after-pending (the host took the pending status), while-watching (BatchGetBuilds
 * saw the build running), before-final (a final status is about to be sent).
 */
import type { CodeBuildClient } from '@aws-sdk/client-codebuild';
import type { Fetch } from '../src/deps.js';
import type { PipelineTiming } from '../src/trigger.js';

export const CRASH_POINTS = [
  'after-accept',
  'after-start',
  'after-pending',
  'while-watching',
  'before-final',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];
export type CrashHook = (point: CrashPoint) => void;

export const noCrash: CrashHook = () => {};

/** The hook the variable asks for; throws on a value that names no point. */
export function crashHookFromEnv(value: string | undefined): CrashHook {
  if (!value) return noCrash;
  const [name, count = '1'] = value.split(':');
  if (!CRASH_POINTS.includes(name as CrashPoint) || !/^[1-9]\d*$/.test(count)) {
    throw new Error(
      `CODEBUILD_RUN_CRASH_AT=${value}: use one of ${CRASH_POINTS.join(', ')}, optionally with :<n>`,
    );
  }
  let remaining = Number(count);
  return (point) => {
    if (point !== name) return;
    remaining -= 1;
    if (remaining === 0) process.kill(process.pid, 'SIGKILL');
  };
}

/** Calls the hook after StartBuild answers and when BatchGetBuilds sees a build still running. */
export function crashOnCodeBuild(client: CodeBuildClient, crash: CrashHook): CodeBuildClient {
  if (crash === noCrash) return client;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'StartBuildCommand') crash('after-start');
      if (context.commandName === 'BatchGetBuildsCommand') {
        const builds = (result.output as { builds?: Array<{ buildStatus?: string }> }).builds;
        if (builds?.some((build) => build.buildStatus === 'IN_PROGRESS')) crash('while-watching');
      }
      return result;
    },
    { step: 'initialize', name: 'codebuildRunCrashHook' },
  );
  return client;
}

/** The commit state a status request carries (every driver sends JSON with a `state`). */
function statusState(init: RequestInit | undefined): string | null {
  if (typeof init?.body !== 'string') return null;
  return /"state"\s*:\s*"([A-Za-z_]+)"/.exec(init.body)?.[1] ?? null;
}

/** The words of the hosts for a build not finished yet (Bitbucket's is INPROGRESS). */
const NOT_FINAL = new Set(['pending', 'running', 'INPROGRESS']);

/** Calls the hook after a pending status is answered and before a final one is sent. */
export function crashOnStatus(fetch: Fetch, crash: CrashHook): Fetch {
  if (crash === noCrash) return fetch;
  return async (input, init) => {
    const state = statusState(init);
    if (state !== null && !NOT_FINAL.has(state)) crash('before-final');
    const response = await fetch(input, init);
    if (state !== null && NOT_FINAL.has(state) && response.ok) crash('after-pending');
    return response;
  };
}

/** The timings `CODEBUILD_RUN_TEST_TIMING` sets, or undefined when unset. */
export function testTimingFromEnv(value: string | undefined): Partial<PipelineTiming> | undefined {
  if (!value) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = null;
  }
  const valid =
    parsed !== null &&
    typeof parsed === 'object' &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((v) => typeof v === 'number' && v >= 0);
  if (!valid) {
    throw new Error(
      `CODEBUILD_RUN_TEST_TIMING must be a JSON object of numbers, e.g. {"stepLeaseMs":2000}`,
    );
  }
  return parsed as Partial<PipelineTiming>;
}
