/**
 * The build's phase records as BatchGetBuilds shows them: the running phase has only a start
 * time; a finished one has its status, end time, whole seconds and contexts; COMPLETED has only a
 * start time. Callers hear of every transition through onPhase.
 */
import type { Clock } from '../../deps.js';
import type { BuildStatus, PhaseContext, PhaseRecord } from './types.js';

export const PHASE_ORDER = [
  'SUBMITTED',
  'QUEUED',
  'PROVISIONING',
  'DOWNLOAD_SOURCE',
  'INSTALL',
  'PRE_BUILD',
  'BUILD',
  'POST_BUILD',
  'UPLOAD_ARTIFACTS',
  'FINALIZING',
  'COMPLETED',
] as const;
export type PhaseType = (typeof PHASE_ORDER)[number];

/** What CodeBuild shows for a phase that went well: one empty context. */
export const EMPTY_CONTEXT: PhaseContext = { statusCode: '', message: '' };

export class PhaseTracker {
  private readonly records: PhaseRecord[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly onPhase: (phases: PhaseRecord[], currentPhase: string) => void,
  ) {}

  get current(): PhaseRecord | undefined {
    const last = this.records.at(-1);
    return last && last.phaseStatus === undefined ? last : undefined;
  }

  enter(phaseType: PhaseType, startTime = this.clock.now()): void {
    this.records.push({ phaseType, startTime });
    this.onPhase(this.snapshot(), phaseType);
  }

  /** Ends the running phase. */
  finish(phaseStatus: BuildStatus, contexts?: PhaseContext[]): PhaseRecord {
    const record = this.current;
    if (!record) throw new Error('no phase is running');
    const endTime = Math.max(this.clock.now(), record.startTime);
    record.phaseStatus = phaseStatus;
    record.endTime = endTime;
    record.durationInSeconds = Math.floor((endTime - record.startTime) / 1000);
    if (contexts) record.contexts = contexts.map((context) => ({ ...context }));
    return record;
  }

  /** The last transition: COMPLETED, which has only a start time. */
  complete(): void {
    this.records.push({ phaseType: 'COMPLETED', startTime: this.clock.now() });
    this.onPhase(this.snapshot(), 'COMPLETED');
  }

  snapshot(): PhaseRecord[] {
    return this.records.map((record) => ({
      ...record,
      ...(record.contexts ? { contexts: record.contexts.map((c) => ({ ...c })) } : {}),
    }));
  }

  failed(): boolean {
    return this.records.some((record) => record.phaseStatus === 'FAILED');
  }
}
