/**
 * The local CodeBuild's request handling, fetch-style: `POST /` with `X-Amz-Target` names the
 * operation (CodeBuild_20161006.*, Logs_20140328.*, secretsmanager.*); `/_local/*` are this
 * endpoint's own routes (faults for tests, health, a build's log as text).
 */
import { randomUUID } from 'node:crypto';
import type { BatchRunner } from './batches.js';
import { batchGetBuildBatches, startBuildBatch, stopBuildBatch } from './batches.js';
import type { BuildRunner } from './build-runner.js';
import {
  batchGetBuilds,
  listBuildsForProject,
  requireBuild,
  startBuild,
  stopBuild,
} from './builds.js';
import type { EndpointContext } from './context.js';
import { FaultSyntaxError, type Faults, parseFault } from './faults.js';
import { getLogEvents } from './logs.js';
import { batchGetProjects, createProject, listProjects } from './projects.js';
import { createSecret, getSecretValue, putSecretValue } from './secrets.js';
import { AwsError, errorResponse, type Input, jsonResponse } from './wire.js';

export interface ApiParts {
  ctx: EndpointContext;
  runner: BuildRunner;
  batches: BatchRunner;
  faults: Faults;
}

type Operations = EndpointContext & { runner: BuildRunner; batches: BatchRunner; origin: string };
type Operation = (ops: Operations, input: Input) => object;

const OPERATIONS: Record<string, Operation> = {
  'CodeBuild_20161006.CreateProject': createProject,
  'CodeBuild_20161006.BatchGetProjects': batchGetProjects,
  'CodeBuild_20161006.ListProjects': listProjects,
  'CodeBuild_20161006.StartBuild': startBuild,
  'CodeBuild_20161006.BatchGetBuilds': batchGetBuilds,
  'CodeBuild_20161006.StopBuild': stopBuild,
  'CodeBuild_20161006.ListBuildsForProject': listBuildsForProject,
  'CodeBuild_20161006.StartBuildBatch': startBuildBatch,
  'CodeBuild_20161006.BatchGetBuildBatches': batchGetBuildBatches,
  'CodeBuild_20161006.StopBuildBatch': stopBuildBatch,
  'Logs_20140328.GetLogEvents': getLogEvents,
  'secretsmanager.CreateSecret': createSecret,
  'secretsmanager.PutSecretValue': putSecretValue,
  'secretsmanager.GetSecretValue': getSecretValue,
};

const text = (body: string, status = 200) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

export function createApiHandler(parts: ApiParts): (request: Request) => Promise<Response> {
  const { ctx, faults } = parts;

  async function aws(request: Request, origin: string): Promise<Response> {
    const requestId = randomUUID();
    const target = request.headers.get('x-amz-target') ?? '';
    const operation = OPERATIONS[target];
    if (!operation) {
      const error = new AwsError(
        'UnknownOperationException',
        `The local CodeBuild does not implement ${target || 'a request without X-Amz-Target'}`,
      );
      return errorResponse(error, requestId);
    }
    const name = target.slice(target.indexOf('.') + 1);
    const started = ctx.clock.now();
    try {
      const body = await request.text();
      let input: unknown;
      try {
        input = body.trim() === '' ? {} : JSON.parse(body);
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON');
      }
      if (input === null || typeof input !== 'object' || Array.isArray(input)) {
        throw new AwsError('SerializationException', 'The request body must be a JSON object');
      }
      const fault = await faults.apply(name, ctx.clock);
      if (fault) throw fault;
      const result = operation(
        { ...ctx, runner: parts.runner, batches: parts.batches, origin },
        input as Input,
      );
      ctx.logger.debug({ operation: name, ms: ctx.clock.now() - started }, 'answered');
      return jsonResponse(result, requestId);
    } catch (error) {
      if (error instanceof AwsError) {
        ctx.logger.debug({ operation: name, error: error.type }, error.message);
        return errorResponse(error, requestId);
      }
      ctx.logger.error({ operation: name, err: error }, 'an operation failed');
      return errorResponse(
        new AwsError(
          'InternalFailure',
          'The local CodeBuild failed to handle the request; see its log',
          500,
        ),
        requestId,
      );
    }
  }

  async function local(request: Request, path: string): Promise<Response> {
    if (path === '/_local/health') return json({ status: 'ok' });
    if (path === '/_local/faults') {
      if (request.method === 'GET') return json({ faults: faults.list() });
      if (request.method === 'DELETE') {
        faults.clear();
        return json({ faults: [] });
      }
      if (request.method === 'POST') {
        try {
          const body = (await request.json()) as { faults?: unknown };
          if (!Array.isArray(body.faults)) {
            return json({ message: 'send {"faults": ["StartBuild=throttle:2", …]}' }, 400);
          }
          faults.add(body.faults.map((f) => parseFault(String(f))));
          return json({ faults: faults.list() });
        } catch (error) {
          const message =
            error instanceof FaultSyntaxError
              ? error.message
              : 'the body must be JSON: {"faults": [...]}';
          return json({ message }, 400);
        }
      }
    }
    const log = /^\/_local\/builds\/([^/]+)\/log$/.exec(path);
    if (log && request.method === 'GET') {
      try {
        const build = requireBuild(ctx, decodeURIComponent(log[1]!));
        const lines = ctx.store.logs.messages(build.logs.groupName, build.logs.streamName);
        return text(lines.map((line) => `${line}\n`).join(''));
      } catch (error) {
        if (error instanceof AwsError) return text(`${error.message}\n`, 404);
        throw error;
      }
    }
    return json({ message: `no route ${request.method} ${path}` }, 404);
  }

  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname.startsWith('/_local/')) return local(request, url.pathname);
    if (request.method === 'POST' && url.pathname === '/') return aws(request, url.origin);
    return json(
      { message: `no route ${request.method} ${url.pathname}: AWS calls are POST /` },
      404,
    );
  };
}
