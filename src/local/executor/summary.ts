/**
 * The few lines a terminal shows after a build: status and total time, each phase with its
 * status, duration and context, and the exported variables.
 */
import type { ExecuteResult } from './types.js';

export function formatBuildSummary(
  buildId: string,
  result: ExecuteResult,
  mask: (text: string) => string = (text) => text,
): string[] {
  const { phases } = result;
  const first = phases[0]?.startTime ?? 0;
  const last = phases.at(-1)?.startTime ?? first;
  const lines = [`Build ${buildId} ${result.buildStatus} in ${seconds(last - first)}`];
  lines.push(`  ${'PHASE'.padEnd(18)}${'STATUS'.padEnd(12)}${'DURATION'.padEnd(10)}CONTEXT`);
  for (const phase of phases) {
    const status = phase.phaseStatus ?? '';
    const duration = phase.durationInSeconds === undefined ? '' : `${phase.durationInSeconds}s`;
    const context = phase.contexts?.find((c) => c.statusCode || c.message);
    const described = context
      ? `${context.statusCode}: ${mask(context.message).replaceAll('\n', '\\n')}`
      : '';
    lines.push(
      `  ${phase.phaseType.padEnd(18)}${status.padEnd(12)}${duration.padEnd(10)}${described}`.trimEnd(),
    );
  }
  if (result.exportedVariables.length > 0) {
    lines.push('Exported variables:');
    for (const { name, value } of result.exportedVariables) lines.push(`  ${name}=${mask(value)}`);
  }
  return lines;
}

function seconds(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  return total >= 60 ? `${Math.floor(total / 60)}m${total % 60}s` : `${total}s`;
}
