/**
 * The Action's flow up to the start: read and check the inputs, plan the request, start the build
 * (or batch) and set the early outputs. Following it (single.ts, batch.ts) is loaded only then, so
 * the step reaches StartBuild with the least code loaded. Cancelled (the signal aborts): the run
 * is stopped within the runner's grace period.
 */
import type { Build, BuildBatch } from '@aws-sdk/client-codebuild';
import { startBuild, startBuildBatch } from '../src/codebuild/start.js';
import { buildBatchConsoleUrl, buildConsoleUrl } from '../src/codebuild/status.js';
import { CallBudget, type CallCounts, pacedClient } from './call-budget.js';
import { describeError, type Flow, type RunDeps, STATE, startWithRetries } from './flow.js';
import type { BuildKind } from './lifecycle.js';
import { setStartedOutputs } from './outputs.js';
import { planStart } from './request.js';
import { readRunnerContext } from './runner-context.js';
import { readSettings } from './settings.js';

const CANNOT_START = 'codebuild-run could not start the build';

export async function runAction(deps: RunDeps, signal: AbortSignal): Promise<number> {
  const { io } = deps;
  const counts: CallCounts = new Map();
  try {
    return await startAndFollow(deps, signal, counts);
  } catch (error) {
    io.error(describeError(error), CANNOT_START);
    return 1;
  } finally {
    if (counts.size > 0) {
      io.debug(`CodeBuild API calls: ${[...counts].map(([op, n]) => `${op} ${n}`).join(', ')}`);
    }
  }
}

/** Saved at once, so a post step after a killed main step knows what to stop. */
function remember(flow: Flow, kind: BuildKind, id: string): void {
  if (!flow.settings.wait) return;
  flow.deps.io.saveState(STATE.id, id);
  flow.deps.io.saveState(STATE.kind, kind);
}

async function startAndFollow(
  deps: RunDeps,
  signal: AbortSignal,
  counts: CallCounts,
): Promise<number> {
  const { io, clock } = deps;
  const settings = readSettings(deps.input, deps.env, (message) => io.warning(message));
  const context = readRunnerContext(deps.env);
  const plan = await planStart(settings, context, deps.readFile);
  const budget = new CallBudget(clock, clock.now());
  const codebuild = pacedClient(deps.codebuild, budget, counts);
  const unpaced = pacedClient(deps.codebuild, null, counts);
  const flow: Flow = { deps, settings, plan, context, codebuild, unpaced, signal };
  if (signal.aborted) {
    io.info('The job was cancelled before the build started; nothing was started.');
    return 1;
  }
  io.info(
    `Starting ${plan.batch ? 'a batch build' : 'a build'} of CodeBuild project ` +
      `${settings.projectName}: ${plan.description}`,
  );
  if (plan.batch) {
    const started: BuildBatch = await startWithRetries(flow, () =>
      startBuildBatch(codebuild, plan.request),
    );
    const url = buildBatchConsoleUrl(started);
    setStartedOutputs(io, {
      id: started.id!,
      arn: started.arn ?? '',
      url,
      number: started.buildBatchNumber,
    });
    io.info(`Batch build ${started.id} started: ${url}`);
    remember(flow, 'batch', started.id!);
    const { followBatch } = await import('./batch.js');
    return followBatch(flow, started, url);
  }
  const started: Build = await startWithRetries(flow, () => startBuild(codebuild, plan.request));
  const url = buildConsoleUrl(started);
  setStartedOutputs(io, {
    id: started.id!,
    arn: started.arn ?? '',
    url,
    number: started.buildNumber,
  });
  io.info(`Build ${started.id} started: ${url}`);
  remember(flow, 'build', started.id!);
  const { followSingle } = await import('./single.js');
  return followSingle(flow, started, url);
}
