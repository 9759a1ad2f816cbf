/**
 * A build's phase list: the endpoint's own SUBMITTED and QUEUED, then what the executor reports,
 * and the endings the endpoint writes itself (a restart, a shutdown, a buildspec it could not read).
 */
import type { PhaseRecord } from '../executor/types.js';
import type { PhaseContext, StoredBuild, StoredPhase } from '../store/index.js';

export const RESTARTED: PhaseContext = {
  statusCode: 'LOCAL_CODEBUILD_RESTARTED',
  message: 'the local CodeBuild restarted while this build ran; start the build again',
};

export const SHUT_DOWN: PhaseContext = {
  statusCode: 'LOCAL_CODEBUILD_STOPPED',
  message: 'the local CodeBuild was shut down while this build ran; start the build again',
};

const BEFORE_LOGS = new Set(['SUBMITTED', 'QUEUED', 'PROVISIONING']);

export function ended(phase: StoredPhase, status: string, endTime: number): StoredPhase {
  return {
    ...phase,
    phaseStatus: status,
    endTime,
    durationInSeconds: Math.max(0, Math.round((endTime - phase.startTime) / 1000)),
  };
}

/** The phases of a build just accepted: submitted, and waiting in the queue. */
export function submittedPhases(now: number): StoredPhase[] {
  return [
    ended({ phaseType: 'SUBMITTED', startTime: now }, 'SUCCEEDED', now),
    { phaseType: 'QUEUED', startTime: now },
  ];
}

/** Leaves the queue: QUEUED ends as the executor takes the build. */
export function dequeued(phases: StoredPhase[], now: number): StoredPhase[] {
  return phases.map((p) =>
    p.phaseType === 'QUEUED' && p.endTime === undefined ? ended(p, 'SUCCEEDED', now) : p,
  );
}

/**
 * The endpoint's SUBMITTED and QUEUED (the real queue times), then the executor's phases from
 * PROVISIONING on; the executor's own SUBMITTED and QUEUED are dropped.
 */
export function mergePhases(own: StoredPhase[], reported: PhaseRecord[]): StoredPhase[] {
  const ownTypes = new Set(own.map((p) => p.phaseType));
  const copies = reported
    .filter((p) => !ownTypes.has(p.phaseType))
    .map((p) => ({ ...p, ...(p.contexts ? { contexts: p.contexts.map((c) => ({ ...c })) } : {}) }));
  return [...own, ...copies];
}

/** The log stream exists from the end of PROVISIONING, as in CodeBuild. */
export function pastProvisioning(phases: StoredPhase[], currentPhase: string): boolean {
  return (
    !BEFORE_LOGS.has(currentPhase) ||
    phases.some((p) => p.phaseType === 'PROVISIONING' && p.endTime !== undefined)
  );
}

export function withCompleted(phases: StoredPhase[], now: number): StoredPhase[] {
  return phases.some((p) => p.phaseType === 'COMPLETED')
    ? phases
    : [...phases, { phaseType: 'COMPLETED', startTime: now }];
}

/**
 * Ends a build the endpoint can no longer run: the phase it was in ends with `status` and
 * `context`, and so does the build.
 */
export function interrupted(
  build: StoredBuild,
  context: PhaseContext,
  now: number,
  status: 'FAILED' | 'STOPPED' | 'FAULT' = 'FAILED',
): StoredBuild {
  const phases = build.phases.filter((p) => p.phaseType !== 'COMPLETED');
  // The phase it was in: still open, or the one the executor marked STOPPED as it was aborted.
  let index = phases.findLastIndex((p) => p.endTime === undefined || p.phaseStatus === 'STOPPED');
  if (index < 0) index = phases.length - 1;
  const current = phases[index];
  if (current) {
    phases[index] = {
      ...ended(current, status, current.endTime ?? now),
      contexts: [...(current.contexts ?? []), context],
    };
  }
  for (let i = index + 1; i < phases.length; i++) {
    const later = phases[i]!;
    if (later.endTime === undefined) phases[i] = ended(later, 'FAILED', now);
  }
  return {
    ...build,
    phases: withCompleted(phases, now),
    buildStatus: status,
    currentPhase: 'COMPLETED',
    buildComplete: true,
    endTime: now,
  };
}
