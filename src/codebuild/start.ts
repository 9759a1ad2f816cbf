/**
 * Starting builds: a validated request becomes StartBuild's input, with an idempotency token so a
 * redelivered event never starts a second build, and the routing metadata carried on the build
 * itself so any process can post its final status from the build alone.
 */
import { createHash } from 'node:crypto';
import {
  type Build,
  type BuildBatch,
  type CodeBuildClient,
  type ComputeType,
  type EnvironmentVariable,
  type ProjectEnvironment,
  SourceType,
  StartBuildBatchCommand,
  type StartBuildBatchCommandInput,
  StartBuildCommand,
  type StartBuildCommandInput,
} from '@aws-sdk/client-codebuild';
import { CodeBuildError, InvalidBuildInputError, toCodeBuildError } from './errors.js';

export type EnvVarType = 'PLAINTEXT' | 'PARAMETER_STORE' | 'SECRETS_MANAGER';
export interface EnvVar {
  name: string;
  value: string;
  type: EnvVarType;
}

/** Where the final status goes: enough to post it with nothing but the build in hand. */
export interface RoutingMetadata {
  hostId: string;
  host: string;
  repo: string;
  repoId: string | null;
  sha: string;
  context: string;
  planId: string;
}

export interface StartBuildRequest {
  projectName: string;
  sourceVersion?: string;
  sourceTypeOverride?: string;
  sourceLocationOverride?: string;
  buildspecOverride?: string;
  gitCloneDepthOverride?: number;
  environmentVariables?: EnvVar[];
  image?: string;
  computeType?: string;
  privilegedMode?: boolean;
  timeoutInMinutes?: number;
  queuedTimeoutInMinutes?: number;
  /** Derives idempotencyToken from (project, repo, sha, delivery): a redelivery never starts a second build. */
  idempotency?: { repo: string; sha: string; deliveryId: string };
  /** Carried on the build as PLAINTEXT `CBR_ROUTE_*` variables. */
  routing?: RoutingMetadata;
}

/** The variable each routing field travels in. Values are PLAINTEXT: never put a secret here. */
export const ROUTING_VARIABLES = {
  hostId: 'CBR_ROUTE_HOST_ID',
  host: 'CBR_ROUTE_HOST',
  repo: 'CBR_ROUTE_REPO',
  repoId: 'CBR_ROUTE_REPO_ID',
  sha: 'CBR_ROUTE_SHA',
  context: 'CBR_ROUTE_CONTEXT',
  planId: 'CBR_ROUTE_PLAN_ID',
} as const satisfies Record<keyof RoutingMetadata, string>;
const ROUTING_PREFIX = 'CBR_ROUTE_';

/** CodeBuild's source types, from the SDK's own model. */
const SOURCE_TYPES: readonly string[] = Object.values(SourceType);
const ENV_TYPES: readonly string[] = ['PLAINTEXT', 'PARAMETER_STORE', 'SECRETS_MANAGER'];
const PROJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const PROJECT_ARN =
  /^arn:[a-z-]+:codebuild:[a-z0-9-]+:\d{12}:project\/[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function invalid(message: string): never {
  throw new InvalidBuildInputError(message);
}

function checkMinutes(key: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    invalid(`${key} must be a whole number of minutes from ${min} to ${max}; got ${value}`);
  }
}

function checkVariables(variables: readonly EnvVar[], routed: boolean): void {
  const seen = new Set<string>();
  for (const variable of variables) {
    const { name } = variable;
    if (!VARIABLE_NAME.test(name)) {
      invalid(
        `environment variable name ${JSON.stringify(name)} is not a shell variable name: use ` +
          'letters, digits and underscores, not starting with a digit',
      );
    }
    if (name.startsWith('CODEBUILD_')) {
      invalid(
        `environment variable ${name}: names starting with CODEBUILD_ are reserved by CodeBuild ` +
          'and refused as overrides; rename it (a buildspec may still export it)',
      );
    }
    if (routed && name.startsWith(ROUTING_PREFIX)) {
      invalid(
        `environment variable ${name}: names starting with ${ROUTING_PREFIX} carry the build's ` +
          'routing metadata; rename it',
      );
    }
    if (seen.has(name)) invalid(`environment variable ${name} is given twice; keep one`);
    seen.add(name);
    if (!ENV_TYPES.includes(variable.type)) {
      invalid(
        `environment variable ${name} has type ${JSON.stringify(variable.type)}; use PLAINTEXT, ` +
          'PARAMETER_STORE or SECRETS_MANAGER',
      );
    }
    if (typeof variable.value !== 'string') invalid(`environment variable ${name} has no value`);
    if (variable.type !== 'PLAINTEXT' && variable.value.trim() === '') {
      invalid(`environment variable ${name} (${variable.type}) needs the name of what to read`);
    }
  }
}

function routingVariables(routing: RoutingMetadata): EnvVar[] {
  const variables: EnvVar[] = [];
  for (const key of Object.keys(ROUTING_VARIABLES) as (keyof RoutingMetadata)[]) {
    const value = routing[key];
    if (value === null && key === 'repoId') continue;
    if (typeof value !== 'string' || value === '') {
      invalid(`routing.${key} must be a non-empty string`);
    }
    variables.push({ name: ROUTING_VARIABLES[key], value, type: 'PLAINTEXT' });
  }
  return variables;
}

/**
 * A token stable for one (project, repo, sha, delivery): CodeBuild answers a repeat within five
 * minutes with the build it already started. The status context joins them when routing is set,
 * so two rules building one project for the same push do not collide.
 */
export function idempotencyTokenFor(
  projectName: string,
  idempotency: NonNullable<StartBuildRequest['idempotency']>,
  context?: string,
): string {
  const parts = [projectName, idempotency.repo, idempotency.sha, idempotency.deliveryId];
  if (context !== undefined) parts.push(context);
  return `cbr-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 48)}`;
}

/** Validates the request and builds StartBuild's input; throws InvalidBuildInputError. */
export function toStartBuildInput(request: StartBuildRequest): StartBuildCommandInput {
  const { projectName } = request;
  if (
    typeof projectName !== 'string' ||
    !(PROJECT_NAME.test(projectName) || PROJECT_ARN.test(projectName))
  ) {
    invalid(
      `projectName ${JSON.stringify(projectName)} is not a CodeBuild project name: 2-255 letters, ` +
        'digits, - and _, starting with a letter or digit (or the project ARN)',
    );
  }
  checkMinutes('timeoutInMinutes', request.timeoutInMinutes, 5, 2160);
  checkMinutes('queuedTimeoutInMinutes', request.queuedTimeoutInMinutes, 5, 480);
  const depth = request.gitCloneDepthOverride;
  if (depth !== undefined && (!Number.isInteger(depth) || depth < 0)) {
    invalid(`gitCloneDepthOverride must be a whole number, 0 for a full clone; got ${depth}`);
  }
  const sourceType = request.sourceTypeOverride;
  if (sourceType !== undefined && !SOURCE_TYPES.includes(sourceType)) {
    invalid(
      `sourceTypeOverride ${JSON.stringify(sourceType)} is not one of ${SOURCE_TYPES.join(', ')}`,
    );
  }
  if (sourceType === 'NO_SOURCE' && !request.buildspecOverride?.trim()) {
    invalid(
      'sourceTypeOverride NO_SOURCE needs buildspecOverride: there is no source to read a buildspec from',
    );
  }
  const user = request.environmentVariables ?? [];
  checkVariables(user, request.routing !== undefined);
  const variables = [...user, ...(request.routing ? routingVariables(request.routing) : [])];
  const idem = request.idempotency;
  if (idem && (!idem.repo || !idem.sha || !idem.deliveryId)) {
    invalid('idempotency needs repo, sha and deliveryId, each non-empty');
  }

  const input: StartBuildCommandInput = { projectName };
  if (request.sourceVersion !== undefined) input.sourceVersion = request.sourceVersion;
  if (sourceType !== undefined) input.sourceTypeOverride = sourceType as SourceType;
  if (request.sourceLocationOverride !== undefined) {
    input.sourceLocationOverride = request.sourceLocationOverride;
  }
  if (request.buildspecOverride !== undefined) input.buildspecOverride = request.buildspecOverride;
  if (depth !== undefined) input.gitCloneDepthOverride = depth;
  if (variables.length > 0) {
    input.environmentVariablesOverride = variables.map(
      ({ name, value, type }): EnvironmentVariable => ({ name, value, type }),
    );
  }
  if (request.image !== undefined) input.imageOverride = request.image;
  if (request.computeType !== undefined)
    input.computeTypeOverride = request.computeType as ComputeType;
  if (request.privilegedMode !== undefined) input.privilegedModeOverride = request.privilegedMode;
  if (request.timeoutInMinutes !== undefined)
    input.timeoutInMinutesOverride = request.timeoutInMinutes;
  if (request.queuedTimeoutInMinutes !== undefined) {
    input.queuedTimeoutInMinutesOverride = request.queuedTimeoutInMinutes;
  }
  if (idem)
    input.idempotencyToken = idempotencyTokenFor(projectName, idem, request.routing?.context);
  return input;
}

/** The same request for a `batch:` buildspec: only the timeout's key differs. */
export function toStartBuildBatchInput(request: StartBuildRequest): StartBuildBatchCommandInput {
  const { timeoutInMinutesOverride, ...rest } = toStartBuildInput(request);
  return timeoutInMinutesOverride === undefined
    ? rest
    : { ...rest, buildTimeoutInMinutesOverride: timeoutInMinutesOverride };
}

export async function startBuild(
  client: CodeBuildClient,
  request: StartBuildRequest,
): Promise<Build> {
  const input = toStartBuildInput(request);
  let build: Build | undefined;
  try {
    ({ build } = await client.send(new StartBuildCommand(input)));
  } catch (error) {
    throw toCodeBuildError(error, 'StartBuild', request.projectName);
  }
  if (!build?.id) {
    throw new CodeBuildError(
      `CodeBuild StartBuild for "${request.projectName}" returned no build`,
      'codebuild.api-error',
    );
  }
  return build;
}

export async function startBuildBatch(
  client: CodeBuildClient,
  request: StartBuildRequest,
): Promise<BuildBatch> {
  const input = toStartBuildBatchInput(request);
  let buildBatch: BuildBatch | undefined;
  try {
    ({ buildBatch } = await client.send(new StartBuildBatchCommand(input)));
  } catch (error) {
    throw toCodeBuildError(error, 'StartBuildBatch', request.projectName);
  }
  if (!buildBatch?.id) {
    throw new CodeBuildError(
      `CodeBuild StartBuildBatch for "${request.projectName}" returned no build batch`,
      'codebuild.api-error',
    );
  }
  return buildBatch;
}

/**
 * The routing metadata a build carries, or null when it carries none (a build this project did
 * not start) or only part of it. Works for a Build and a BuildBatch alike.
 */
export function routingFromBuild(build: {
  environment?: ProjectEnvironment;
}): RoutingMetadata | null {
  const values = new Map<string, string>();
  for (const variable of build.environment?.environmentVariables ?? []) {
    if (variable.type === 'PLAINTEXT' && variable.name?.startsWith(ROUTING_PREFIX)) {
      values.set(variable.name, variable.value ?? '');
    }
  }
  const read = (key: keyof RoutingMetadata) => values.get(ROUTING_VARIABLES[key]) || null;
  const hostId = read('hostId');
  const host = read('host');
  const repo = read('repo');
  const sha = read('sha');
  const context = read('context');
  const planId = read('planId');
  if (!hostId || !host || !repo || !sha || !context || !planId) return null;
  return { hostId, host, repo, repoId: read('repoId'), sha, context, planId };
}
