/**
 * The StartBuild request one planned build sends: the user's buildspec (inline in the rule, the
 * file at the pushed commit, or the project's own) with the clone prelude, as `buildspecOverride`
 * on a NO_SOURCE build; the clone variables, then the rule's variables; the rule's overrides; the
 * idempotency key and the routing metadata. Secrets appear only as references: the clone token
 * as its Secrets Manager reference, the rule's secrets as theirs. The server's API token is used
 * only to read the repository (commit.ts) and never goes into the request.
 */
import {
  BatchGetProjectsCommand,
  type BatchGetProjectsCommandOutput,
} from '@aws-sdk/client-codebuild';
import { injectClonePrelude, parseBuildspec } from '../buildspec/index.js';
import {
  ProjectNotFoundError,
  type StartBuildRequest,
  toCodeBuildError,
} from '../codebuild/index.js';
import type { HostConfig } from '../config.js';
import { CodebuildRunError } from '../errors.js';
import { driverFor } from '../forge/registry.js';
import type { CloneAuth, PushEvent } from '../forge/types.js';
import type { PlannedBuild } from '../plan.js';
import { commitOf, withRepoToken } from './commit.js';
import type { TriggerDeps } from './types.js';

export type PrepareDeps = Pick<TriggerDeps, 'config' | 'codebuild' | 'repoFiles' | 'secrets'>;

export async function prepareStartBuild(
  deps: PrepareDeps,
  hostId: string,
  event: PushEvent,
  plan: PlannedBuild,
): Promise<StartBuildRequest> {
  if (!Object.hasOwn(deps.config.hosts, hostId)) {
    throw new CodebuildRunError(
      `host "${hostId}" is not in the config: add it under hosts, or push again`,
      'pipeline.unknown-host',
    );
  }
  const host = deps.config.hosts[hostId]!;
  if (event.sha === null) {
    throw new CodebuildRunError(
      `the push of ${event.ref} names no commit: nothing to build`,
      'pipeline.no-commit',
    );
  }
  const auth = driverFor(host.kind).cloneAuth(host.account ?? undefined);
  // The commit, for an annotated tag whose payload gave the tag object: the build checks it out,
  // its statuses and CODEBUILD_RESOLVED_SOURCE_VERSION name it. The idempotency token keeps the
  // pushed sha, so a redelivery dedupes whatever the repository answers.
  const sha = await commitOf(deps, host, event, event.sha);
  const { text, source } = await userBuildspec(deps, host, auth, event, sha, plan);
  const injected = injectClonePrelude(parseBuildspec(text, source), {
    cloneUrl: event.repo.cloneUrl,
    sha,
    ref: event.ref,
    refKind: event.refKind,
    refName: event.refName,
    host: host.kind,
    before: event.before,
    tokenSecretRef: host.cloneToken,
    auth,
    submodules: plan.submodules,
    lfs: plan.lfs,
  });
  const { overrides } = plan;
  return {
    projectName: plan.projectName,
    sourceTypeOverride: 'NO_SOURCE',
    buildspecOverride: injected.buildspec,
    environmentVariables: [...injected.environmentVariables, ...plan.environmentVariables],
    ...(overrides.image !== undefined ? { image: overrides.image } : {}),
    ...(overrides.computeType !== undefined ? { computeType: overrides.computeType } : {}),
    ...(overrides.privilegedMode !== undefined ? { privilegedMode: overrides.privilegedMode } : {}),
    ...(overrides.timeoutInMinutes !== undefined
      ? { timeoutInMinutes: overrides.timeoutInMinutes }
      : {}),
    ...(overrides.queuedTimeoutInMinutes !== undefined
      ? { queuedTimeoutInMinutes: overrides.queuedTimeoutInMinutes }
      : {}),
    idempotency: { repo: event.repo.fullName, sha: event.sha, deliveryId: event.deliveryId },
    routing: {
      hostId,
      host: host.kind,
      repo: event.repo.fullName,
      repoId: event.repo.id,
      sha,
      context: plan.statusContext,
      planId: plan.planId,
    },
  };
}

/** The buildspec text and a name for it in errors (`buildspec.yml`, `inline buildspec`, …). */
async function userBuildspec(
  deps: PrepareDeps,
  host: HostConfig,
  auth: CloneAuth,
  event: PushEvent,
  sha: string,
  plan: PlannedBuild,
): Promise<{ text: string; source: string }> {
  const spec = plan.buildspec;
  if (spec.kind === 'inline') {
    return { text: spec.text, source: `inline buildspec of rule "${plan.ruleName}"` };
  }
  let path: string;
  if (spec.kind === 'file') {
    path = spec.path;
  } else {
    const found = await projectBuildspec(deps, plan);
    if ('text' in found) return found;
    path = found.path;
  }
  const text = await readRepoFile(deps, host, auth, event, sha, path);
  if (text === null) {
    throw new CodebuildRunError(
      `${path} not found at ${sha.slice(0, 7)}: add it to the repository, or set buildspec in rule "${plan.ruleName}"`,
      'pipeline.buildspec-missing',
    );
  }
  return { text, source: path };
}

/**
 * The project's own buildspec: inline YAML, or a path in its source (read from the repository
 * here, as the source is replaced by the clone step); none means CodeBuild's default path.
 */
async function projectBuildspec(
  deps: PrepareDeps,
  plan: PlannedBuild,
): Promise<{ text: string; source: string } | { path: string }> {
  let found: BatchGetProjectsCommandOutput;
  try {
    found = await deps.codebuild.send(new BatchGetProjectsCommand({ names: [plan.projectName] }));
  } catch (error) {
    throw toCodeBuildError(error, 'BatchGetProjects', plan.projectName);
  }
  const project = found.projects?.find((p) => p.name === plan.projectName) ?? found.projects?.[0];
  if (!project) {
    throw new ProjectNotFoundError(plan.projectName, 'BatchGetProjects found no such project');
  }
  const buildspec = project.source?.buildspec?.trim() ?? '';
  if (buildspec === '') return { path: 'buildspec.yml' };
  if (buildspec.includes('\n') || /^version\s*:/.test(buildspec)) {
    return { text: buildspec, source: `the buildspec of project "${plan.projectName}"` };
  }
  if (buildspec.startsWith('arn:')) {
    throw new CodebuildRunError(
      `project "${plan.projectName}" keeps its buildspec in S3, which codebuild-run does not read: put it in the repository and set buildspec: { file: … } in rule "${plan.ruleName}"`,
      'pipeline.buildspec-in-s3',
    );
  }
  return { path: buildspec.replace(/^(\.\/)+/, '') };
}

/** Reads `path` at `sha` with the host's API token (see withRepoToken). */
function readRepoFile(
  deps: PrepareDeps,
  host: HostConfig,
  auth: CloneAuth,
  event: PushEvent,
  sha: string,
  path: string,
): Promise<string | null> {
  return withRepoToken(deps, host, auth, (authHeader) =>
    deps.repoFiles.readFile({
      cloneUrl: event.repo.cloneUrl,
      sha,
      path,
      ...(authHeader ? { authHeader } : {}),
    }),
  );
}
