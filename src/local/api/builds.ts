/** StartBuild, BatchGetBuilds, StopBuild and ListBuildsForProject. */
import { createHash } from 'node:crypto';
import type { SortOrder, StoredBuild } from '../store/index.js';
import { newBuild, readBuildRequest } from './build-request.js';
import type { BuildRunner } from './build-runner.js';
import { type EndpointContext, idFromArnOrId } from './context.js';
import { requireProject } from './projects.js';
import { renderBuild } from './render.js';
import { AwsError, defined, type Input, InputReader, invalidInput } from './wire.js';

export interface BuildOperations extends EndpointContext {
  runner: BuildRunner;
  /** Where this endpoint is reached, for the log links it hands out. */
  origin: string;
}

const TOKEN_WINDOW_MS = 5 * 60_000;
const PAGE = 100;

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * CodeBuild's idempotency: within 5 minutes, the same token with the same parameters answers the
 * first result again; with other parameters it is an error. `create` runs only for a new request.
 */
export function withIdempotency<T>(
  ctx: EndpointContext,
  scope: string,
  input: Input,
  lookup: (id: string) => T | undefined,
  create: () => { id: string; result: T },
): T {
  const token = new InputReader(input).optionalString('idempotencyToken');
  if (token === undefined) return create().result;
  const { idempotencyToken: _, ...parameters } = input;
  const fingerprint = createHash('sha256').update(stableJson(parameters)).digest('hex');
  const now = ctx.clock.now();
  const entry = ctx.store.idempotency.find(scope, token);
  if (entry && now - entry.created < TOKEN_WINDOW_MS) {
    if (entry.fingerprint !== fingerprint) {
      throw invalidInput(
        `Invalid input: idempotencyToken "${token}" was used in the last 5 minutes with different parameters; send the same parameters to get the same ${scope}, or use a new token`,
      );
    }
    const existing = lookup(entry.resultId);
    if (existing !== undefined) return existing;
  }
  const { id, result } = create();
  ctx.store.idempotency.put(scope, token, { fingerprint, resultId: id, created: now });
  return result;
}

export function startBuild(ops: BuildOperations, input: Input): object {
  const build = withIdempotency(
    ops,
    'build',
    input,
    (id) => ops.store.builds.get(id),
    () => {
      const request = readBuildRequest(ops, new InputReader(input), 'timeoutInMinutesOverride');
      const { build, plan } = newBuild(ops, request);
      void ops.runner.start(build, plan);
      return { id: build.id, result: build };
    },
  );
  return { build: renderBuild(ops, build, ops.origin) };
}

export function batchGetBuilds(ops: BuildOperations, input: Input): object {
  const ids = new InputReader(input).stringList('ids', 1, 100);
  const builds: object[] = [];
  const buildsNotFound: string[] = [];
  for (const requested of new Set(ids)) {
    const build = ops.store.builds.get(idFromArnOrId(requested, 'build'));
    if (build) builds.push(renderBuild(ops, build, ops.origin));
    else buildsNotFound.push(requested);
  }
  return { builds, buildsNotFound };
}

export function requireBuild(ops: EndpointContext, requested: string): StoredBuild {
  const build = ops.store.builds.get(idFromArnOrId(requested, 'build'));
  if (!build)
    throw new AwsError('ResourceNotFoundException', `Build cannot be found: ${requested}`);
  return build;
}

/** The answer shows the build as it is now; it reads STOPPED once the executor has ended it. */
export function stopBuild(ops: BuildOperations, input: Input): object {
  const build = requireBuild(ops, new InputReader(input).string('id'));
  if (!build.buildComplete) ops.runner.stop(build.id);
  return { build: renderBuild(ops, ops.store.builds.get(build.id) ?? build, ops.origin) };
}

export function listBuildsForProject(ops: EndpointContext, input: Input): object {
  const reader = new InputReader(input);
  const project = requireProject(ops, reader.string('projectName'));
  const order = (reader.optionalString('sortOrder') ?? 'DESCENDING') as SortOrder;
  if (order !== 'ASCENDING' && order !== 'DESCENDING') {
    throw invalidInput('sortOrder must be ASCENDING or DESCENDING');
  }
  const after = readPageToken(reader.optionalString('nextToken'));
  const page = ops.store.builds.ids(project.name, order, after, PAGE + 1);
  const more = page.length > PAGE;
  const shown = page.slice(0, PAGE);
  return defined({
    ids: shown.map((row) => row.id),
    nextToken: more ? `after-${shown.at(-1)!.number}` : undefined,
  });
}

export function readPageToken(token: string | undefined): number | undefined {
  if (token === undefined) return undefined;
  const match = /^after-(\d+)$/.exec(token);
  if (!match)
    throw invalidInput(`Invalid nextToken "${token}": pass the nextToken of the previous page`);
  return Number(match[1]);
}
