/**
 * A single build after StartBuild: follow it with its log in the job (follow.ts), then the final
 * outputs, the job summary and, when it did not pass, an error annotation with the failed phase,
 * why, and the phase's last lines. Loaded once the build started: nothing here delays StartBuild.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import {
  buildLogsUrl,
  failedPhase,
  failureReason,
  formatDuration,
} from '../src/codebuild/index.js';
import { describeError, type Flow, onCancel, STATE, writeSummary } from './flow.js';
import { followBuild } from './follow.js';
import { PhaseLogRenderer } from './log-groups.js';
import { exportedVariables, maskSecrets, setEndedOutputs } from './outputs.js';
import { buildSummary } from './summary.js';

export async function followSingle(flow: Flow, started: Build, url: string): Promise<number> {
  const { deps, settings, plan, context, signal } = flow;
  const { io } = deps;
  const id = started.id!;
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

  const renderer = new PhaseLogRenderer((text) => io.write(text));
  let build: Build;
  try {
    build = await followBuild(
      {
        codebuild: flow.codebuild,
        logs: await deps.logs(),
        clock: deps.clock,
        logger: deps.logger,
      },
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
