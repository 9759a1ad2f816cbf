/**
 * What the local CodeBuild keeps on disk. Times are epoch milliseconds here; the API turns them
 * into the epoch seconds the wire format uses.
 */

export type BuildStatus =
  | 'SUCCEEDED'
  | 'FAILED'
  | 'FAULT'
  | 'TIMED_OUT'
  | 'STOPPED'
  | 'IN_PROGRESS';

export interface PhaseContext {
  statusCode: string;
  message: string;
}

export interface StoredPhase {
  phaseType: string;
  phaseStatus?: string;
  startTime: number;
  endTime?: number;
  durationInSeconds?: number;
  contexts?: PhaseContext[];
}

export interface EnvironmentVariable {
  name: string;
  value: string;
  type: 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER';
}

/** A project as CreateProject or the projects file gave it, in wire shape (times in ms). */
export interface StoredProject {
  name: string;
  arn: string;
  description?: string;
  source: { type: string; location?: string; buildspec?: string; gitCloneDepth?: number };
  sourceVersion?: string;
  artifacts: { type: string; location?: string };
  environment: {
    type: string;
    image: string;
    computeType: string;
    privilegedMode?: boolean;
    imagePullCredentialsType?: string;
    environmentVariables?: EnvironmentVariable[];
  };
  serviceRole: string;
  timeoutInMinutes: number;
  queuedTimeoutInMinutes: number;
  logsConfig?: { cloudWatchLogs?: { status: string; groupName?: string; streamName?: string } };
  tags?: Array<{ key?: string; value?: string }>;
  created: number;
  lastModified: number;
}

export interface StoredBuild {
  id: string;
  uuid: string;
  arn: string;
  buildNumber: number;
  projectName: string;
  startTime: number;
  endTime?: number;
  currentPhase: string;
  buildStatus: BuildStatus;
  buildComplete: boolean;
  phases: StoredPhase[];
  sourceVersion?: string;
  source: StoredProject['source'];
  environment: StoredProject['environment'];
  serviceRole: string;
  timeoutInMinutes: number;
  queuedTimeoutInMinutes: number;
  initiator: string;
  /** The stream exists (and is shown on the build) once PROVISIONING is over. */
  logs: { groupName: string; streamName: string; started: boolean };
  exportedEnvironmentVariables?: Array<{ name: string; value: string }>;
  artifactsLocation?: string;
  buildBatchArn?: string;
}

export interface StoredBatchGroup {
  identifier: string;
  dependsOn: string[];
  ignoreFailure: boolean;
  buildId?: string;
  requestedOn?: number;
  buildStatus?: BuildStatus;
}

export interface StoredBatch {
  id: string;
  uuid: string;
  arn: string;
  buildBatchNumber: number;
  projectName: string;
  startTime: number;
  endTime?: number;
  currentPhase: string;
  buildBatchStatus: BuildStatus;
  complete: boolean;
  phases: StoredPhase[];
  sourceVersion?: string;
  source: StoredProject['source'];
  environment: StoredProject['environment'];
  serviceRole: string;
  buildTimeoutInMinutes: number;
  queuedTimeoutInMinutes: number;
  initiator: string;
  buildGroups: StoredBatchGroup[];
}

export interface StoredSecretVersion {
  versionId: string;
  secretString?: string;
  /** Base64, as the wire carries blobs. */
  secretBinary?: string;
  stages: string[];
  created: number;
}

export interface StoredSecret {
  name: string;
  arn: string;
  description?: string;
  created: number;
}
