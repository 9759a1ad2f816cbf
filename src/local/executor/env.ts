/**
 * The build's environment, in CodeBuild's precedence, lowest first: the base environment (PATH,
 * HOME…), AWS_REGION/AWS_DEFAULT_REGION, buildspec `env.variables`, buildspec `parameter-store`
 * and `secrets-manager`, project variables and StartBuild overrides (already merged by the
 * caller), then the CODEBUILD_* variables CodeBuild reserves for itself.
 * Every value resolved from Secrets Manager or Parameter Store is handed to the masker.
 */
import { join } from 'node:path';
import type { BuildspecEnv } from '../../buildspec/index.js';
import type { SecretMasker } from './mask.js';
import type { ExecuteOptions, PhaseContext } from './types.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A variable that could not be resolved: fails DOWNLOAD_SOURCE with this context. */
export class EnvironmentError extends Error {
  constructor(readonly context: PhaseContext) {
    super(context.message);
  }
}

export function baseEnvironment(options: ExecuteOptions): Record<string, string> {
  return (
    options.baseEnvironment ?? {
      PATH: DEFAULT_PATH,
      HOME: join(options.workRoot, 'home'),
      LANG: 'C.UTF-8',
    }
  );
}

/** `project:uuid` → `uuid`, CodeBuild's log stream name. */
export function buildUuid(buildId: string): string {
  return buildId.slice(buildId.lastIndexOf(':') + 1);
}

export interface ReservedInputs {
  srcDir: string;
  startTime: number;
  /** CODEBUILD_RESOLVED_SOURCE_VERSION and friends, from the source download. */
  sourceVariables: Record<string, string>;
}

/** The CODEBUILD_* variables and AWS_REGION that CodeBuild sets for every build. */
export function codebuildVariables(
  options: ExecuteOptions,
  inputs: ReservedInputs,
): Record<string, string> {
  const variables: Record<string, string> = {
    CODEBUILD_BUILD_ID: options.buildId,
    CODEBUILD_BUILD_ARN: options.buildArn,
    CODEBUILD_BUILD_NUMBER: String(options.buildNumber),
    CODEBUILD_BUILD_SUCCEEDING: '1',
    CODEBUILD_INITIATOR: options.initiator,
    CODEBUILD_SRC_DIR: inputs.srcDir,
    CODEBUILD_START_TIME: String(inputs.startTime),
    CODEBUILD_LOG_PATH: buildUuid(options.buildId),
    CODEBUILD_PROJECT_ARN: `arn:aws:codebuild:${options.region}:${options.accountId}:project/${options.projectName}`,
    ...inputs.sourceVariables,
  };
  if (options.image !== undefined) variables.CODEBUILD_BUILD_IMAGE = options.image;
  return variables;
}

export async function buildEnvironment(
  options: ExecuteOptions,
  env: BuildspecEnv | undefined,
  inputs: ReservedInputs,
  masker: SecretMasker,
): Promise<Record<string, string>> {
  const result: Record<string, string> = {
    ...baseEnvironment(options),
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    ...env?.variables,
  };
  for (const [name, parameter] of Object.entries(env?.['parameter-store'] ?? {})) {
    result[name] = await resolveParameter(options, masker, name, parameter, 'parameter-store');
  }
  for (const [name, reference] of Object.entries(env?.['secrets-manager'] ?? {})) {
    result[name] = await resolveSecret(options, masker, name, reference, 'secrets-manager');
  }
  for (const variable of options.environmentVariables) {
    const { name, value, type } = variable;
    if (type === 'PARAMETER_STORE') {
      result[name] = await resolveParameter(options, masker, name, value, 'PARAMETER_STORE');
    } else if (type === 'SECRETS_MANAGER') {
      result[name] = await resolveSecret(options, masker, name, value, 'SECRETS_MANAGER');
    } else {
      result[name] = value;
    }
  }
  return { ...result, ...codebuildVariables(options, inputs) };
}

async function resolveParameter(
  options: ExecuteOptions,
  masker: SecretMasker,
  name: string,
  parameter: string,
  origin: string,
): Promise<string> {
  try {
    const value = await options.resolveParameter(parameter);
    masker.add(value);
    return value;
  } catch (error) {
    throw new EnvironmentError({
      statusCode: 'Decrypted Variables Error',
      message: `cannot resolve ${origin} variable ${name} (parameter "${parameter}"): ${reason(error)}`,
    });
  }
}

async function resolveSecret(
  options: ExecuteOptions,
  masker: SecretMasker,
  name: string,
  reference: string,
  origin: string,
): Promise<string> {
  try {
    const value = await options.resolveSecret(reference);
    masker.add(value);
    return value;
  } catch (error) {
    throw new EnvironmentError({
      statusCode: 'Secrets Manager Error',
      message: `cannot resolve ${origin} variable ${name} (secret "${reference}"): ${reason(error)}`,
    });
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
