/**
 * A `batch:` buildspec runs as a batch build: StartBuildBatch, then BatchGetBuildBatches by the
 * batch's age (no single log tells its end). Each member's status change is a line in the job;
 * each member's log is printed as one group when it ends; the summary has a row per member.
 * Outputs: build-id is the batch id; exported-variables maps member identifier → its variables.
 */
import { BatchGetBuildsCommand, type Build, type BuildBatch } from '@aws-sdk/client-codebuild';
import {
  BatchWatcher,
  failedPhase,
  failureReason,
  toCodeBuildError,
} from '../src/codebuild/index.js';
import { describeError, type Flow, onCancel, STATE, writeSummary } from './flow.js';
import { DEFAULT_TIMING } from './follow.js';
import { readEndedLog } from './log-end.js';
import { PhaseLogRenderer } from './log-groups.js';
import { exportedVariables, maskSecrets, setEndedOutputs } from './outputs.js';
import { batchSummary, type MemberResult } from './summary.js';

const FINAL = new Set(['SUCCEEDED', 'FAILED', 'FAULT', 'TIMED_OUT', 'STOPPED']);

/** `arn:aws:codebuild:<region>:<account>:build/<project>:<uuid>` → `<project>:<uuid>`. */
export function buildIdFromArn(arn: string): string {
  const at = arn.indexOf(':build/');
  return at < 0 ? arn : arn.slice(at + ':build/'.length);
}

interface Member {
  identifier: string;
  status: string | undefined;
  buildId: string | undefined;
  build: Build | undefined;
}

export async function followBatch(flow: Flow, started: BuildBatch, url: string): Promise<number> {
  const { deps, settings, plan, context, signal } = flow;
  const { io, clock, logger } = deps;
  const id = started.id!;
  const logs = await deps.logs();
  const summaryOf = (
    batch: BuildBatch,
    members: MemberResult[],
    exported: Record<string, Record<string, string>>,
    note?: string,
  ) =>
    batchSummary({
      batch,
      members,
      description: plan.description,
      exported,
      secretNames: plan.secretNames,
      runUrl: context.runUrl,
      ...(note ? { note } : {}),
    });
  if (!settings.wait) {
    io.info('Not waiting for the batch to end (wait: false).');
    await writeSummary(io, summaryOf(started, [], {}, 'Started; not waited for (wait: false).'));
    return 0;
  }
  if (signal.aborted) return onCancel(flow, 'batch', id, url);

  const members = new Map<string, Member>();
  let printing: Promise<void> = Promise.resolve();
  /** Fetches ended members' builds (one call for all) and prints their logs, in order. */
  const fetchMembers = async (ids: string[]) => {
    for (let i = 0; i < ids.length; i += 100) {
      let builds: Build[];
      try {
        const out = await flow.unpaced.send(
          new BatchGetBuildsCommand({ ids: ids.slice(i, i + 100) }),
        );
        builds = out.builds ?? [];
      } catch (error) {
        io.warning(
          `Could not read the batch's builds: ${describeError(toCodeBuildError(error, 'BatchGetBuilds'))}`,
        );
        return;
      }
      for (const build of builds) {
        const member = [...members.values()].find((m) => m.buildId === build.id);
        if (!member) continue;
        member.build = build;
        if (settings.hideLogs) continue;
        const renderer = new PhaseLogRenderer((text) => io.write(text), {
          title: `${member.identifier}: ${build.buildStatus ?? ''}`,
        });
        try {
          await readEndedLog({ logs, clock, logger }, build, (lines) => renderer.push(lines));
        } catch (error) {
          io.warning(`${describeError(error)}`);
        }
        renderer.close();
      }
    }
  };
  const onUpdate = (batch: BuildBatch) => {
    const ended: string[] = [];
    for (const group of batch.buildGroups ?? []) {
      const identifier = group.identifier ?? '?';
      const summary = group.currentBuildSummary;
      const member = members.get(identifier) ?? {
        identifier,
        status: undefined,
        buildId: undefined,
        build: undefined,
      };
      members.set(identifier, member);
      if (summary?.arn) member.buildId = buildIdFromArn(summary.arn);
      const status = summary?.buildStatus;
      if (status && status !== member.status) {
        io.info(`${identifier}: ${status}`);
        member.status = status;
        if (FINAL.has(status) && member.buildId) ended.push(member.buildId);
      }
    }
    if (ended.length > 0) printing = printing.then(() => fetchMembers(ended));
  };

  const watcher = new BatchWatcher({
    client: flow.codebuild,
    clock,
    logger,
    policy: DEFAULT_TIMING.blindPolicy,
  });
  let batch: BuildBatch;
  try {
    // The members take seconds to start: the first look is worth more a little later.
    await clock.sleep(DEFAULT_TIMING.blindFirstLookMs, signal);
    batch = await watcher.watch(id, { onUpdate, signal });
  } catch (error) {
    if (signal.aborted) return onCancel(flow, 'batch', id, url);
    io.saveState(STATE.id, '');
    io.error(
      `${describeError(error)} The batch goes on: ${url}`,
      'codebuild-run lost track of the batch',
    );
    return 1;
  } finally {
    watcher.close();
  }
  io.saveState(STATE.id, '');
  await printing;
  const missing = [...members.values()].filter((m) => m.buildId && !m.build);
  if (missing.length > 0) await fetchMembers(missing.map((m) => m.buildId!));

  const results: MemberResult[] = [...members.values()].map((m) => ({
    identifier: m.identifier,
    build: m.build,
    status: m.status,
  }));
  const exported: Record<string, Record<string, string>> = {};
  for (const member of members.values()) {
    const variables = exportedVariables(member.build);
    maskSecrets(io, variables, plan.secretNames);
    if (Object.keys(variables).length > 0) exported[member.identifier] = variables;
  }
  const failedMembers = [...members.values()].filter(
    (m) => m.status !== undefined && m.status !== 'SUCCEEDED',
  );
  const firstFailed = failedMembers.find((m) => m.build && failedPhase(m.build));
  const status = batch.buildBatchStatus ?? 'UNKNOWN';
  const phase =
    (firstFailed?.build && failedPhase(firstFailed.build)) ||
    (batch.phases ?? []).find((p) => p.phaseStatus && p.phaseStatus !== 'SUCCEEDED')?.phaseType ||
    null;
  setEndedOutputs(io, {
    status,
    failedPhase: status === 'SUCCEEDED' ? null : phase,
    exported,
    eachVariable: false,
  });
  await writeSummary(io, summaryOf(batch, results, exported));
  if (status === 'SUCCEEDED') {
    io.info(`Batch ${id} SUCCEEDED: ${url}`);
    return 0;
  }
  const why = failedMembers.map(
    (m) => `${m.identifier}: ${(m.build && failureReason(m.build)) || m.status}`,
  );
  io.error(
    `${why.length > 0 ? why.join('\n') : `Batch ended ${status}`}\nBatch: ${url}`,
    `CodeBuild ${settings.projectName} batch #${batch.buildBatchNumber ?? '?'} ${status}${phase ? ` in ${phase}` : ''}`,
  );
  return 1;
}
