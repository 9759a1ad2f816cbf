/**
 * Settings and the workflow run → the StartBuild (or StartBuildBatch) request: which source, which
 * buildspec (with the clone step for `source: clone`), which variables, and whether the buildspec
 * asks for a batch build.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Buildspec, CloneSource } from '../src/buildspec/index.js';
import type { EnvVar, StartBuildRequest } from '../src/codebuild/index.js';
import { CodebuildRunError } from '../src/errors.js';
import {
  commitToBuild,
  githubSourceType,
  type RunnerContext,
  RunnerContextError,
  repositoryCloneUrl,
} from './runner-context.js';
import type { Settings } from './settings.js';

export interface StartPlan {
  request: StartBuildRequest;
  /** The buildspec has a `batch:` section: start a batch build. */
  batch: boolean;
  /** Variables whose values are secrets: an exported variable of one of these names is masked. */
  secretNames: Set<string>;
  /** One line for the log: what is built, from where. */
  description: string;
}

/** Reads a file, or null when there is none. */
export type ReadFile = (path: string) => string | null;

export const readFileOrNull: ReadFile = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
};

const FULL_SHA = /^([0-9a-f]{40}|[0-9a-f]{64})$/;
/** The clone step's variables start so (src/buildspec's CLONE_VARIABLE_PREFIX). */
const CLONE_VARIABLE_PREFIX = 'CBR_';

/** YAML and the buildspec schema load only when there is a buildspec to read. */
const buildspecModule = () => import('../src/buildspec/index.js');

/** A path inside the workspace, or an error naming the input. */
function workspacePath(context: RunnerContext, path: string, why: string): string {
  if (!context.workspace) {
    throw new RunnerContextError(
      `buildspec: cannot read ${path} ${why}: GITHUB_WORKSPACE is not set; pass the buildspec inline`,
    );
  }
  const full = resolve(context.workspace, path);
  const inside = relative(context.workspace, full);
  if (isAbsolute(path) || inside.startsWith('..') || isAbsolute(inside)) {
    throw new RunnerContextError(
      `buildspec ${JSON.stringify(path)} must be a path inside the repository, relative to its root`,
    );
  }
  return full;
}

async function parseQuietly(text: string | null): Promise<Buildspec | undefined> {
  if (text === null) return undefined;
  const { parseBuildspec } = await buildspecModule();
  try {
    return parseBuildspec(text).spec;
  } catch {
    // Only peeked at to see a batch: section; CodeBuild reads and judges the file itself.
    return undefined;
  }
}

function cloneRef(context: RunnerContext): Pick<CloneSource, 'ref' | 'refKind' | 'refName'> {
  if (context.pullRequestHeadSha && context.headRef) {
    return { ref: `refs/heads/${context.headRef}`, refKind: 'branch', refName: context.headRef };
  }
  const match = /^refs\/(heads|tags)\/(.+)$/.exec(context.ref);
  if (!match) {
    throw new RunnerContextError(
      `source: clone needs the branch or tag of the commit, and GITHUB_REF ${JSON.stringify(context.ref)} ` +
        'names neither; run on a push, pull_request or workflow_dispatch event, or use source: github',
    );
  }
  const refName = match[2]!;
  return match[1] === 'heads'
    ? { ref: context.ref, refKind: 'branch', refName }
    : { ref: context.ref, refKind: 'tag', refName };
}

function secretNamesOf(variables: readonly EnvVar[], spec: Buildspec | undefined): Set<string> {
  const names = new Set(variables.filter((v) => v.type !== 'PLAINTEXT').map((v) => v.name));
  for (const name of Object.keys(spec?.env?.['secrets-manager'] ?? {})) names.add(name);
  for (const name of Object.keys(spec?.env?.['parameter-store'] ?? {})) names.add(name);
  return names;
}

function baseRequest(settings: Settings): StartBuildRequest {
  const request: StartBuildRequest = { projectName: settings.projectName };
  if (settings.image !== undefined) request.image = settings.image;
  if (settings.computeType !== undefined) request.computeType = settings.computeType;
  if (settings.privilegedMode !== undefined) request.privilegedMode = settings.privilegedMode;
  if (settings.timeoutInMinutes !== undefined) request.timeoutInMinutes = settings.timeoutInMinutes;
  return request;
}

/**
 * Only StartBuild retries of this one run share the token: a retry after a dropped connection
 * never starts a second build, and two jobs of a matrix never collide.
 */
function idempotency(context: RunnerContext, version: string): StartBuildRequest['idempotency'] {
  return { repo: context.repository || 'workflow', sha: version, deliveryId: randomUUID() };
}

async function planClone(
  settings: Settings,
  context: RunnerContext,
  readFile: ReadFile,
): Promise<StartPlan> {
  const { version, why } = commitToBuild(context, settings.sourceVersion);
  if (!FULL_SHA.test(version)) {
    throw new RunnerContextError(
      `source-version ${JSON.stringify(version)}: source: clone checks out an exact commit, so give ` +
        'its full sha (40 hex digits), or use source: github to build a branch or tag',
    );
  }
  const reserved = settings.variables.find((v) => v.name.startsWith(CLONE_VARIABLE_PREFIX));
  if (reserved) {
    throw new CodebuildRunError(
      `${reserved.name}: names starting with ${CLONE_VARIABLE_PREFIX} are used by the clone step of source: clone; rename the variable`,
      'action.bad-input',
    );
  }
  let text: string;
  let name: string;
  if (settings.buildspec?.kind === 'inline') {
    text = settings.buildspec.text;
    name = 'the buildspec input';
  } else {
    const path = settings.buildspec?.path ?? 'buildspec.yml';
    const found = readFile(workspacePath(context, path, 'for source: clone'));
    if (found === null) {
      throw new RunnerContextError(
        `buildspec: ${path} is not in the workspace (${context.workspace}). source: clone sends ` +
          'the buildspec with the build: check the repository out first (actions/checkout), or ' +
          'pass the buildspec inline',
      );
    }
    text = found;
    name = path;
  }
  const [{ parseBuildspec, injectClonePrelude }, { githubDriver }] = await Promise.all([
    buildspecModule(),
    import('../src/forge/github/index.js'),
  ]);
  const parsed = parseBuildspec(text, name);
  const injected = injectClonePrelude(parsed, {
    cloneUrl: repositoryCloneUrl(context),
    sha: version,
    ...cloneRef(context),
    host: 'github',
    before: context.before ?? null,
    tokenSecretRef: settings.cloneTokenSecret ?? null,
    auth: githubDriver.cloneAuth(),
  });
  return {
    request: {
      ...baseRequest(settings),
      sourceTypeOverride: 'NO_SOURCE',
      buildspecOverride: injected.buildspec,
      environmentVariables: [...settings.variables, ...injected.environmentVariables],
      idempotency: idempotency(context, version),
    },
    batch: parsed.spec.batch !== undefined,
    secretNames: secretNamesOf(settings.variables, parsed.spec),
    description: `cloning ${context.repository} at ${version.slice(0, 12)} (${why}) in a NO_SOURCE build`,
  };
}

/** github and project sources: CodeBuild fetches the source and reads a path buildspec itself. */
async function planNative(
  settings: Settings,
  context: RunnerContext,
  readFile: ReadFile,
): Promise<StartPlan> {
  const request = baseRequest(settings);
  request.environmentVariables = settings.variables;
  let spec: Buildspec | undefined;
  const buildspec = settings.buildspec;
  if (buildspec?.kind === 'inline') {
    const { parseBuildspec, checkBuildspecLimits } = await buildspecModule();
    spec = parseBuildspec(buildspec.text, 'the buildspec input').spec;
    checkBuildspecLimits(buildspec.text, []);
    request.buildspecOverride = buildspec.text;
  } else {
    if (buildspec) request.buildspecOverride = buildspec.path;
    // Only peeked at for a batch: section. Without the input, only github's default file is
    // guessed at: a project source may name any file in its settings.
    const peek = buildspec?.path ?? (settings.source === 'github' ? 'buildspec.yml' : undefined);
    if (peek !== undefined && context.workspace) {
      spec = await parseQuietly(
        readFile(workspacePath(context, peek, 'to look for a batch: section')),
      );
    }
  }
  let description: string;
  let version = settings.sourceVersion;
  if (settings.source === 'github') {
    const commit = commitToBuild(context, settings.sourceVersion);
    version = commit.version;
    request.sourceTypeOverride = githubSourceType(context);
    request.sourceLocationOverride = repositoryCloneUrl(context);
    description = `${context.repository} at ${version.slice(0, 12)} (${commit.why}) from ${context.serverUrl}`;
  } else {
    description = version
      ? `the project's own source at ${version}`
      : "the project's own source and version";
  }
  if (version !== undefined) request.sourceVersion = version;
  request.idempotency = idempotency(context, version ?? 'project');
  return {
    request,
    batch: spec?.batch !== undefined,
    secretNames: secretNamesOf(settings.variables, spec),
    description,
  };
}

/**
 * Throws RunnerContextError, BuildspecError (naming the line), BuildspecLimitError or
 * CloneSourceError: all before anything is sent.
 */
export function planStart(
  settings: Settings,
  context: RunnerContext,
  readFile: ReadFile = readFileOrNull,
): Promise<StartPlan> {
  return settings.source === 'clone'
    ? planClone(settings, context, readFile)
    : planNative(settings, context, readFile);
}
