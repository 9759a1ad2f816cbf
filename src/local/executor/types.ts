/**
 * The executor's interface: one build of a buildspec 0.2 on this machine, reported the way
 * CodeBuild reports it (phases, contexts, agent log lines). Times are epoch milliseconds; the API
 * turns them into the epoch seconds of the wire format.
 */
import type { Clock } from '../../deps.js';

export type BuildStatus = 'SUCCEEDED' | 'FAILED' | 'FAULT' | 'TIMED_OUT' | 'STOPPED';

export interface PhaseContext {
  statusCode: string;
  message: string;
}

export interface PhaseRecord {
  phaseType: string;
  /** Absent while the phase runs (CodeBuild's IN_PROGRESS) and on COMPLETED. */
  phaseStatus?: BuildStatus;
  startTime: number;
  endTime?: number;
  durationInSeconds?: number;
  contexts?: PhaseContext[];
}

export type BuildSource =
  | { type: 'NO_SOURCE' }
  | { type: 'DIRECTORY'; path: string }
  | { type: 'GIT'; url: string; version?: string };

export interface BuildEnvironmentVariable {
  name: string;
  value: string;
  type: 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER';
}

export interface ExecuteOptions {
  buildId: string;
  buildArn: string;
  buildNumber: number;
  projectName: string;
  region: string;
  accountId: string;
  initiator: string;
  /** Only reported (CODEBUILD_BUILD_IMAGE): commands run on the host, not in this image. */
  image?: string;
  /** The buildspec's YAML text. A parse error fails DOWNLOAD_SOURCE with YAML_FILE_ERROR. */
  buildspec: string;
  source: BuildSource;
  /** StartBuild overrides and project variables, already merged (override > project). */
  environmentVariables: BuildEnvironmentVariable[];
  /** `secret-id[:json-key[:version-stage[:version-id]]]`, passed whole → the value. */
  resolveSecret(reference: string): Promise<string>;
  resolveParameter(name: string): Promise<string>;
  /** A fresh directory for this build: source in <workRoot>/src, artifacts in <workRoot>/artifacts. */
  workRoot: string;
  /** Measured in real time (the build's processes run in real time); the clock gives timestamps. */
  timeoutMs: number;
  /** Aborting it is StopBuild. */
  signal: AbortSignal;
  clock: Clock;
  /** Every log line, secrets masked. */
  onLog(line: string): void;
  /** After every phase transition, with a copy of the phases so far. */
  onPhase(phases: PhaseRecord[], currentPhase: string): void;
  /**
   * The variables the build's processes start with, below everything else (PATH, HOME, …).
   * Default: a minimal PATH, LANG=C.UTF-8 and HOME=<workRoot>/home. Entries choose what of the
   * host's environment a build may see; src/ never reads process.env.
   */
  baseEnvironment?: Record<string, string>;
}

export interface ExecuteResult {
  buildStatus: BuildStatus;
  phases: PhaseRecord[];
  /**
   * The buildspec's `exported-variables` in its order, with their values once the command phases
   * are over ('' for one never set); empty when the build was stopped or timed out.
   */
  exportedVariables: Array<{ name: string; value: string }>;
  /** <workRoot>/artifacts when the buildspec has `artifacts` and the upload phase ran, else null. */
  artifactsDir: string | null;
}
