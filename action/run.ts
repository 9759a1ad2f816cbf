/**
 * The Action's flow: read the inputs, start the build (or batch), set the early outputs, follow
 * it to its end with its log in the job, then the final outputs, the job summary and, when it did
 * not pass, an error annotation with the failed phase and why. Cancelled (the signal aborts): the
 * build is stopped within the runner's grace period.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import {
  buildConsoleUrl,
  buildLogsUrl,
  failedPhase,
  failureReason,
  formatDuration,
  startBuild,
} from '../src/codebuild/index.js';
import { runBatch } from './batch.js';
import { CallBudget, type CallCounts, pacedClient } from './call-budget.js';
import {
  describeError,
  type Flow,
  onCancel,
  type RunDeps,
  STATE,
  startWithRetries,
  writeSummary,
} from './flow.js';
import { followBuild } from './follow.js';
import { PhaseLogRenderer } from './log-groups.js';
import { exportedVariables, maskSecrets, setEndedOutputs, setStartedOutputs } from './outputs.js';
import { planStart } from './request.js';
import { readRunnerContext } from './runner-context.js';
import { readSettings } from './settings.js';
import { buildSummary } from './summary.js';

export async function runAction(deps: RunDeps, signal: AbortSignal): Promise<number> {
  const { io, clock } = deps;
  let flow: Flow;
  try {
    const settings = readSettings(deps.input, deps.env, (message) => io.warning(message));
    const context = readRunnerContext(deps.env);
    const plan = planStart(settings, context, deps.readFile);
    const counts: CallCounts = new Map();
    const budget = new CallBudget(clock, clock.now());
    const codebuild = pacedClient(deps.codebuild, budget, counts);
    flow = { deps, settings, plan, context, codebuild, signal };
    io.info(
      `Starting ${plan.batch ? 'a batch build' : 'a build'} of CodeBuild project ` +
        `${settings.projectName}: ${plan.description}`,
    );
    try {
      return await (plan.batch ? runBatch(flow) : runSingle(flow));
    } finally {
      io.debug(`CodeBuild API calls: ${[...counts].map(([op, n]) => `${op} ${n}`).join(', ')}`);
    }
  } catch (error) {
    io.error(describeError(error), 'codebuild-run could not start the build');
    return 1;
  }
}

async function runSingle(flow: Flow): Promise<number> {
  const { deps, settings, plan, context, signal } = flow;
  const { io } = deps;
  const started = await startWithRetries(flow, () => startBuild(flow.codebuild, plan.request));
  const id = started.id!;
  const url = buildConsoleUrl(started);
  setStartedOutputs(io, { id, arn: started.arn ?? '', url, number: started.buildNumber });
  io.info(`Build ${id} started: ${url}`);
  const summaryOf = (build: Build, exported: Record<string, string>, note?: string) =>
    buildSummary({
      build,
      description: plan.description,
      exported,
      secretNames: plan.secretNames,
      runUrl: context.runUrl,
      ...(note ? { note } : {}),
    });
  if (!settings.wait) {
    io.info('Not waiting for the build to end (wait: false).');
    await writeSummary(io, summaryOf(started, {}, 'Started; not waited for (wait: false).'));
    return 0;
  }
  if (signal.aborted) return onCancel(flow, 'build', id, url);
  io.saveState(STATE.id, id);
  io.saveState(STATE.kind, 'build');

  const renderer = new PhaseLogRenderer((text) => io.write(text));
  let build: Build;
  try {
    build = await followBuild(
      { codebuild: flow.codebuild, logs: deps.logs, clock: deps.clock, logger: deps.logger },
      {
        started,
        showLogs: !settings.hideLogs,
        onLines: (lines) => renderer.push(lines),
        onLogsUnavailable: (error) =>
          io.warning(`${describeError(error)} Following the build without its log.`),
        signal,
        ...(deps.timing ? { timing: deps.timing } : {}),
      },
    );
  } catch (error) {
    renderer.close();
    if (signal.aborted) return onCancel(flow, 'build', id, url);
    io.saveState(STATE.id, '');
    io.error(
      `${describeError(error)} The build goes on: ${url}`,
      'codebuild-run lost track of the build',
    );
    return 1;
  }
  renderer.close();
  io.saveState(STATE.id, '');

  const status = build.buildStatus ?? 'UNKNOWN';
  const exported = exportedVariables(build);
  maskSecrets(io, exported, plan.secretNames);
  const phase = failedPhase(build);
  setEndedOutputs(io, { status, failedPhase: phase, exported, eachVariable: true });
  await writeSummary(io, summaryOf(build, exported));

  const took =
    build.startTime && build.endTime
      ? ` in ${formatDuration(build.endTime.getTime() - build.startTime.getTime())}`
      : '';
  if (status === 'SUCCEEDED') {
    io.info(`Build ${id} SUCCEEDED${took}: ${url}`);
    return 0;
  }
  if (phase && !settings.hideLogs) {
    renderer.writeExcerpt(
      `Last lines of the ${phase} phase (its whole log is in the ${phase} group above):`,
      renderer.lastLines(phase),
    );
  }
  const reason = failureReason(build) ?? `Build ended ${status}`;
  const logs = buildLogsUrl(build);
  io.error(
    `${reason}\nBuild: ${url}${logs ? `\nLog: ${logs}` : ''}`,
    `CodeBuild ${settings.projectName} #${build.buildNumber ?? '?'} ${status}${phase ? ` in ${phase}` : ''}`,
  );
  return 1;
}
