/**
 * The step's outputs. The build's identity is set the moment it starts (a later step, a `post`,
 * or a cancelled job still knows which build it was); its result when it ends. Exported
 * variables holding a secret are masked before they become outputs.
 */
import type { Build } from '@aws-sdk/client-codebuild';
import type { ActionIo } from './io.js';

export interface StartedOutputs {
  id: string;
  arn: string;
  url: string;
  number: number | undefined;
}

export function setStartedOutputs(io: ActionIo, started: StartedOutputs): void {
  io.setOutput('build-id', started.id);
  io.setOutput('build-arn', started.arn);
  io.setOutput('build-url', started.url);
  io.setOutput('build-number', started.number === undefined ? '' : String(started.number));
}

/** The buildspec's exported-variables of an ended build, as name → value. */
export function exportedVariables(build: Build | undefined): Record<string, string> {
  const exported: Record<string, string> = {};
  for (const variable of build?.exportedEnvironmentVariables ?? []) {
    if (variable.name) exported[variable.name] = variable.value ?? '';
  }
  return exported;
}

/** Registers every value the build got from Secrets Manager or Parameter Store with the runner. */
export function maskSecrets(
  io: ActionIo,
  exported: Record<string, string>,
  secretNames: ReadonlySet<string>,
): void {
  for (const [name, value] of Object.entries(exported)) {
    if (secretNames.has(name) && value !== '') io.setSecret(value);
  }
}

export interface EndedOutputs {
  status: string;
  failedPhase: string | null;
  /** A single build's variables (each also an output), or a batch's by member identifier. */
  exported: Record<string, string> | Record<string, Record<string, string>>;
  /** Set each exported variable as an output of its own name (single builds). */
  eachVariable: boolean;
}

export function setEndedOutputs(io: ActionIo, ended: EndedOutputs): void {
  io.setOutput('build-status', ended.status);
  io.setOutput('failed-phase', ended.failedPhase ?? '');
  io.setOutput('exported-variables', JSON.stringify(ended.exported));
  if (!ended.eachVariable) return;
  for (const [name, value] of Object.entries(ended.exported)) {
    if (typeof value === 'string') io.setOutput(name, value);
  }
}
