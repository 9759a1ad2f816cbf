/**
 * DOWNLOAD_SOURCE, as in CodeBuild: the source is fetched, then the buildspec read (a YAML or
 * schema error is YAML_FILE_ERROR), then the environment variables resolved (Parameter Store and
 * Secrets Manager failures have CodeBuild's own status codes).
 */
import {
  type Buildspec,
  BuildspecError,
  PHASE_NAMES,
  type PhaseName,
  parseBuildspec,
} from '../../buildspec/index.js';
import { type ArtifactsSpec, parseArtifacts } from './artifacts.js';
import { baseEnvironment, buildEnvironment, EnvironmentError } from './env.js';
import type { SecretMasker } from './mask.js';
import { type OnFailure, parseOnFailure } from './on-failure.js';
import { downloadSource } from './source.js';
import type { ExecuteOptions, PhaseContext } from './types.js';

export interface PreparedBuild {
  spec: Buildspec;
  env: Record<string, string>;
  onFailure: Record<PhaseName, OnFailure>;
  artifacts: ArtifactsSpec | null;
}

export type DownloadOutcome =
  | { ok: true; build: PreparedBuild }
  | { ok: false; halted: true }
  | { ok: false; halted: false; context: PhaseContext };

export interface DownloadInputs {
  srcDir: string;
  startTime: number;
  masker: SecretMasker;
  halt: AbortSignal;
  log(message: string): void;
}

export async function runDownloadPhase(
  options: ExecuteOptions,
  inputs: DownloadInputs,
): Promise<DownloadOutcome> {
  const { srcDir, log, halt } = inputs;
  const sourcePassword = options.source.type === 'GIT' ? urlPassword(options.source.url) : '';
  if (sourcePassword) inputs.masker.add(sourcePassword);
  log('Phase is DOWNLOAD_SOURCE');
  log(`CODEBUILD_SRC_DIR=${srcDir}`);
  const source = await downloadSource(options.source, {
    srcDir,
    workRoot: options.workRoot,
    env: baseEnvironment(options),
    halt,
    log,
  });
  if (!source.ok) {
    return source.halted || !source.context
      ? { ok: false, halted: true }
      : { ok: false, halted: false, context: source.context };
  }
  if (halt.aborted) return { ok: false, halted: true };

  let spec: Buildspec;
  let onFailure: Record<PhaseName, OnFailure>;
  let artifacts: ArtifactsSpec | null = null;
  try {
    spec = parseBuildspec(options.buildspec, 'buildspec').spec;
    onFailure = Object.fromEntries(
      PHASE_NAMES.map((name) => [name, parseOnFailure(spec.phases?.[name]?.['on-failure'])]),
    ) as Record<PhaseName, OnFailure>;
    if (spec.artifacts) {
      const parsed = parseArtifacts(spec.artifacts);
      if (typeof parsed === 'string') throw new Error(parsed);
      artifacts = parsed;
    }
  } catch (error) {
    const message = error instanceof BuildspecError ? error.message : (error as Error).message;
    return { ok: false, halted: false, context: { statusCode: 'YAML_FILE_ERROR', message } };
  }

  log('Processing environment variables');
  let env: Record<string, string>;
  try {
    env = await buildEnvironment(
      options,
      spec.env,
      { srcDir, startTime: inputs.startTime, sourceVariables: source.variables },
      inputs.masker,
    );
  } catch (error) {
    if (error instanceof EnvironmentError) {
      return { ok: false, halted: false, context: error.context };
    }
    throw error;
  }
  if (halt.aborted) return { ok: false, halted: true };

  log(`Moving to directory ${srcDir}`);
  if (spec['run-as']) {
    log(`run-as ${spec['run-as']} is not applied locally: commands run as the current user`);
  }
  const present = PHASE_NAMES.filter((name) => spec.phases?.[name]);
  log(`Phases found in YAML: ${present.length}`);
  for (const name of present) {
    log(` ${name.toUpperCase()}: ${spec.phases?.[name]?.commands.length ?? 0} commands`);
  }
  return { ok: true, build: { spec, env, onFailure, artifacts } };
}

function urlPassword(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return '';
  }
}
