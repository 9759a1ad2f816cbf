/**
 * The job summary (GitHub's step summary, Markdown): the build's status, how long it took, each
 * phase with its duration, links to the build and its log, and its exported variables. Pure
 * functions of what is known, so what a user reads can be tested.
 */
import type { Build, BuildBatch, BuildPhase } from '@aws-sdk/client-codebuild';
import {
  buildBatchConsoleUrl,
  buildConsoleUrl,
  buildLogsUrl,
  failedPhase,
  failureReason,
  formatDuration,
} from '../src/codebuild/index.js';

const ICONS: Record<string, string> = {
  SUCCEEDED: '✅',
  FAILED: '❌',
  FAULT: '💥',
  TIMED_OUT: '⏱️',
  STOPPED: '⏹️',
  STOPPING: '⏹️',
  IN_PROGRESS: '⏳',
};
const icon = (status: string | undefined) => ICONS[status ?? ''] ?? '❔';

/** Text safe in a Markdown table cell: no pipe, no HTML, one line. */
export function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '&#124;')
    .replace(/\r?\n/g, ' ');
}

const code = (text: string) => `<code>${cell(text)}</code>`;
const link = (label: string, url: string | null) =>
  url ? `[${cell(label)}](${url.replace(/\)/g, '%29')})` : cell(label);

function durationMs(start: Date | undefined, end: Date | undefined): number | null {
  return start && end ? end.getTime() - start.getTime() : null;
}

function phaseDuration(phase: BuildPhase): string {
  if (phase.durationInSeconds !== undefined) return formatDuration(phase.durationInSeconds * 1000);
  const ms = durationMs(phase.startTime, phase.endTime);
  return ms === null ? '' : formatDuration(ms);
}

export interface BuildSummaryInput {
  build: Build;
  /** What was built: "org/app at abc123 (the pull request head)". */
  description: string;
  /** Exported variables; values of `secretNames` are not shown. */
  exported: Record<string, string>;
  secretNames: ReadonlySet<string>;
  runUrl?: string | undefined;
  /** Set when the build was not waited for (wait: false) or the wait was cancelled. */
  note?: string;
}

function exportedTable(exported: Record<string, string>, secretNames: ReadonlySet<string>) {
  const names = Object.keys(exported);
  if (names.length === 0) return [];
  return [
    '',
    '#### Exported variables',
    '',
    '| Name | Value |',
    '| --- | --- |',
    ...names.map(
      (name) =>
        `| ${code(name)} | ${secretNames.has(name) ? '*(secret, masked)*' : code(exported[name] ?? '')} |`,
    ),
  ];
}

export function buildSummary(input: BuildSummaryInput): string {
  const { build } = input;
  const status = build.buildStatus ?? 'IN_PROGRESS';
  const number = build.buildNumber === undefined ? '' : ` #${build.buildNumber}`;
  const lines = [
    `### ${icon(status)} CodeBuild ${code(build.projectName ?? '')}${number}: ${status}`,
    '',
  ];
  const reason = failureReason(build);
  if (reason) lines.push(`**${cell(reason)}**`, '');
  if (input.note) lines.push(cell(input.note), '');
  const total = durationMs(build.startTime, build.endTime);
  lines.push(
    '| | |',
    '| --- | --- |',
    `| Build | ${link(build.id ?? '', buildConsoleUrl(build))} |`,
    `| Log | ${link('CloudWatch Logs', buildLogsUrl(build))} |`,
    `| Source | ${cell(input.description)} |`,
  );
  if (total !== null) lines.push(`| Duration | ${formatDuration(total)} |`);
  const failed = failedPhase(build);
  if (failed) lines.push(`| Failed phase | ${code(failed)} |`);
  if (input.runUrl) lines.push(`| Workflow run | ${link('this run', input.runUrl)} |`);

  const phases = (build.phases ?? []).filter((p) => p.phaseType !== 'COMPLETED');
  if (phases.length > 0) {
    lines.push('', '#### Phases', '', '| Phase | Status | Duration |', '| --- | --- | --- |');
    for (const phase of phases) {
      const state = phase.phaseStatus ?? (status === 'IN_PROGRESS' ? 'IN_PROGRESS' : '');
      const context = phase.contexts?.find((c) => c.message)?.message;
      const detail = context && state !== 'SUCCEEDED' ? ` ${cell(context)}` : '';
      lines.push(
        `| ${phase.phaseType ?? ''} | ${state ? `${icon(state)} ${state}` : ''}${detail} | ${phaseDuration(phase)} |`,
      );
    }
  }
  lines.push(...exportedTable(input.exported, input.secretNames));
  return `${lines.join('\n')}\n`;
}

export interface MemberResult {
  identifier: string;
  /** The member's build, when it was started. */
  build: Build | undefined;
  status: string | undefined;
}

export interface BatchSummaryInput {
  batch: BuildBatch;
  members: MemberResult[];
  description: string;
  exported: Record<string, Record<string, string>>;
  secretNames: ReadonlySet<string>;
  runUrl?: string | undefined;
  note?: string;
}

export function batchSummary(input: BatchSummaryInput): string {
  const { batch } = input;
  const status = batch.buildBatchStatus ?? 'IN_PROGRESS';
  const number = batch.buildBatchNumber === undefined ? '' : ` #${batch.buildBatchNumber}`;
  const lines = [
    `### ${icon(status)} CodeBuild ${code(batch.projectName ?? '')} batch${number}: ${status}`,
    '',
  ];
  if (input.note) lines.push(cell(input.note), '');
  const total = durationMs(batch.startTime, batch.endTime);
  lines.push(
    '| | |',
    '| --- | --- |',
    `| Batch | ${link(batch.id ?? '', buildBatchConsoleUrl(batch))} |`,
    `| Source | ${cell(input.description)} |`,
  );
  if (total !== null) lines.push(`| Duration | ${formatDuration(total)} |`);
  if (input.runUrl) lines.push(`| Workflow run | ${link('this run', input.runUrl)} |`);
  lines.push(
    '',
    '#### Builds',
    '',
    '| Build | Status | Duration | Why | Links |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const member of input.members) {
    const build = member.build;
    const state = build?.buildStatus ?? member.status ?? 'not started';
    const took = build ? durationMs(build.startTime, build.endTime) : null;
    const why = build ? (failureReason(build) ?? '') : '';
    const links = build
      ? `${link('build', buildConsoleUrl(build))} · ${link('log', buildLogsUrl(build))}`
      : '';
    lines.push(
      `| ${cell(member.identifier)} | ${icon(state)} ${state} | ${took === null ? '' : formatDuration(took)} | ${cell(why)} | ${links} |`,
    );
  }
  for (const [identifier, variables] of Object.entries(input.exported)) {
    const table = exportedTable(variables, input.secretNames);
    if (table.length > 0) {
      table[1] = `#### Exported variables of ${code(identifier)}`;
      lines.push(...table);
    }
  }
  return `${lines.join('\n')}\n`;
}
