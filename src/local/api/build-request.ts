/**
 * StartBuild's (and StartBuildBatch's) request → the build to record and the plan to run: the
 * project's settings under the overrides, the source the executor understands, and the variables
 * merged override > project.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { BuildSource } from '../executor/types.js';
import type { EnvironmentVariable, StoredBuild, StoredProject } from '../store/index.js';
import type { BuildPlan } from './build-runner.js';
import { type BuildspecChoice, chooseBuildspec } from './buildspec-source.js';
import { buildArn, type EndpointContext } from './context.js';
import { submittedPhases } from './phases.js';
import { checkSourceType, readVariables, requireProject } from './projects.js';
import { defined, type InputReader, invalidInput } from './wire.js';

export const INITIATOR = 'codebuild-run-local';

export interface BuildRequest {
  project: StoredProject;
  source: StoredProject['source'];
  executorSource: BuildSource;
  sourceVersion?: string;
  buildspec: BuildspecChoice;
  environment: StoredProject['environment'];
  timeoutInMinutes: number;
  queuedTimeoutInMinutes: number;
}

/** A git URL, or an absolute path to a directory on this machine. */
function executorSource(
  type: string,
  location: string | undefined,
  version: string | undefined,
): BuildSource {
  if (type === 'NO_SOURCE') return { type: 'NO_SOURCE' };
  if (type === 'S3' || type === 'CODEPIPELINE') {
    throw invalidInput(
      `Invalid input: the local CodeBuild cannot fetch ${type} sources; use NO_SOURCE with an inline buildspec, a git URL or a local directory`,
    );
  }
  if (!location) {
    throw invalidInput(
      `Invalid input: source location is required for source type ${type}; pass sourceLocationOverride (a git URL or an absolute directory path)`,
    );
  }
  if (isAbsolute(location)) {
    if (!existsSync(location) || !statSync(location).isDirectory()) {
      throw invalidInput(
        `Invalid input: source location ${location} is not a directory on this machine; use an existing directory or a git URL (file:///… for a local repository)`,
      );
    }
    return { type: 'DIRECTORY', path: location };
  }
  return defined({ type: 'GIT' as const, url: location, version });
}

export function readBuildRequest(
  ctx: EndpointContext,
  reader: InputReader,
  timeoutKey: 'timeoutInMinutesOverride' | 'buildTimeoutInMinutesOverride',
): BuildRequest {
  const project = requireProject(ctx, reader.string('projectName'));
  const typeOverride = reader.optionalString('sourceTypeOverride');
  const type = checkSourceType(typeOverride ?? project.source.type, 'sourceTypeOverride');
  const location =
    type === 'NO_SOURCE'
      ? undefined
      : (reader.optionalString('sourceLocationOverride') ?? project.source.location);
  const sourceVersion = reader.optionalString('sourceVersion') ?? project.sourceVersion;
  const buildspecText = reader.optionalString('buildspecOverride') ?? project.source.buildspec;
  if (buildspecText?.startsWith('arn:')) {
    throw invalidInput(
      'Invalid input: the local CodeBuild cannot read a buildspec from S3; pass the YAML inline in buildspecOverride',
    );
  }
  const buildspec = chooseBuildspec(buildspecText);
  if (type === 'NO_SOURCE' && 'path' in buildspec) {
    throw invalidInput(
      'Invalid input: a NO_SOURCE build needs an inline buildspec; pass the YAML in buildspecOverride',
    );
  }
  const overrides = readVariables(
    reader.optionalList('environmentVariablesOverride'),
    'environmentVariablesOverride',
  );
  const privilegedMode = reader.optionalBoolean('privilegedModeOverride');
  return {
    project,
    source: defined({
      type,
      location,
      buildspec: buildspecText,
      gitCloneDepth:
        reader.optionalNumber('gitCloneDepthOverride', 0, 2147483647) ??
        project.source.gitCloneDepth,
    }),
    executorSource: executorSource(type, location, sourceVersion),
    sourceVersion,
    buildspec,
    environment: defined({
      ...project.environment,
      type: reader.optionalString('environmentTypeOverride') ?? project.environment.type,
      image: reader.optionalString('imageOverride') ?? project.environment.image,
      computeType: reader.optionalString('computeTypeOverride') ?? project.environment.computeType,
      privilegedMode: privilegedMode ?? project.environment.privilegedMode,
      environmentVariables: mergeVariables(
        project.environment.environmentVariables ?? [],
        overrides ?? [],
      ),
    }),
    timeoutInMinutes: reader.optionalNumber(timeoutKey, 5, 2160) ?? project.timeoutInMinutes,
    queuedTimeoutInMinutes:
      reader.optionalNumber('queuedTimeoutInMinutesOverride', 5, 480) ??
      project.queuedTimeoutInMinutes,
  };
}

/** Later lists win by name; the order of first appearance is kept. */
export function mergeVariables(...lists: EnvironmentVariable[][]): EnvironmentVariable[] {
  const byName = new Map<string, EnvironmentVariable>();
  for (const list of lists) for (const variable of list) byName.set(variable.name, variable);
  return [...byName.values()];
}

export interface MemberSettings {
  variables?: EnvironmentVariable[];
  image?: string;
  computeType?: string;
  privilegedMode?: boolean;
  buildspec?: BuildspecChoice;
  buildBatchArn?: string;
  initiator?: string;
  /** Variables CodeBuild sets itself (CODEBUILD_BATCH_BUILD_IDENTIFIER): given to the build only. */
  systemVariables?: EnvironmentVariable[];
}

/** A new build of `request`; a batch passes the settings of one of its members. */
export function newBuild(
  ctx: EndpointContext,
  request: BuildRequest,
  member: MemberSettings = {},
): { build: StoredBuild; plan: BuildPlan } {
  const { project } = request;
  const uuid = randomUUID();
  const id = `${project.name}:${uuid}`;
  const cloudWatch = project.logsConfig?.cloudWatchLogs;
  const now = ctx.clock.now();
  const environment = defined({
    ...request.environment,
    image: member.image ?? request.environment.image,
    computeType: member.computeType ?? request.environment.computeType,
    privilegedMode: member.privilegedMode ?? request.environment.privilegedMode,
    environmentVariables: mergeVariables(
      request.environment.environmentVariables ?? [],
      member.variables ?? [],
    ),
  });
  const build: StoredBuild = defined({
    id,
    uuid,
    arn: buildArn(ctx, id),
    buildNumber: ctx.store.builds.nextNumber(project.name),
    projectName: project.name,
    startTime: now,
    currentPhase: 'QUEUED',
    buildStatus: 'IN_PROGRESS' as const,
    buildComplete: false,
    phases: submittedPhases(now),
    sourceVersion: request.sourceVersion,
    source: request.source,
    environment,
    serviceRole: project.serviceRole,
    timeoutInMinutes: request.timeoutInMinutes,
    queuedTimeoutInMinutes: request.queuedTimeoutInMinutes,
    initiator: member.initiator ?? INITIATOR,
    logs: {
      groupName: cloudWatch?.groupName ?? `/aws/codebuild/${project.name}`,
      // A configured stream name is a prefix in CodeBuild: <prefix>/<uuid>.
      streamName: cloudWatch?.streamName ? `${cloudWatch.streamName}/${uuid}` : uuid,
      started: false,
    },
    buildBatchArn: member.buildBatchArn,
  });
  return {
    build,
    plan: {
      buildspec: member.buildspec ?? request.buildspec,
      source: request.executorSource,
      environmentVariables: [
        ...(environment.environmentVariables ?? []),
        ...(member.systemVariables ?? []),
      ],
    },
  };
}
