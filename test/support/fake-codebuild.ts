/**
 * A hand-written CodeBuild + CloudWatch Logs endpoint on 127.0.0.1 speaking the real awsJson1_1
 * wire protocol (`POST /`, `X-Amz-Target`, JSON, epoch-second timestamps, errors as HTTP 400
 * `{"__type","message"}`), so tests drive the real AWS SDK over HTTP. Builds follow a script:
 * each BatchGetBuilds that returns a build first applies its next scripted patch.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';

export const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'us-east-1';

/** A build or build batch as it travels on the wire; Date values are sent as epoch seconds. */
export type WireObject = { id: string; [key: string]: unknown };

export interface RecordedCall {
  op: string;
  body: Record<string, unknown>;
  /** The fake's `now()` when the call arrived: calls of one poll round share it under a fake clock. */
  at: number;
  /** The error type answered, if the call was failed on purpose or refused. */
  error?: string;
}

interface FailureRule {
  op: string;
  when: (n: number) => boolean;
  type: string;
  message: string;
}

interface Scripted {
  current: WireObject;
  upcoming: Partial<WireObject>[];
  evolve?: (nowMs: number) => Partial<WireObject>;
}

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface FakeCodeBuild {
  url: string;
  calls: RecordedCall[];
  /** Calls to one operation (`BatchGetBuilds`, `GetLogEvents`, …). */
  count(op: string): number;
  projects: Set<string>;
  /** Patches applied to every build StartBuild creates, one per later BatchGetBuilds. */
  onStart: (build: WireObject) => Partial<WireObject>[];
  addBuild(init?: Partial<WireObject>, ...upcoming: Partial<WireObject>[]): WireObject;
  addBatch(init?: Partial<WireObject>, ...upcoming: Partial<WireObject>[]): WireObject;
  /** Queue more patches for a build or batch. */
  script(id: string, ...upcoming: Partial<WireObject>[]): void;
  /** Derive the build's state from the fake's time on every look, instead of a script. */
  evolve(id: string, state: (nowMs: number) => Partial<WireObject>): void;
  get(id: string): WireObject | undefined;
  /** Answer calls to `op` whose 1-based index satisfies `when` with this error. */
  failWhen(op: string, when: (n: number) => boolean, type: string, message?: string): void;
  clearFailures(): void;
  /** Append events to a log stream, creating it (and its group) if needed. */
  appendLogs(
    group: string,
    stream: string,
    messages: (string | { timestamp: number; message: string })[],
  ): void;
  logPageSize: number;
  close(): Promise<void>;
}

/** Real SDK clients pointed at the fake, with the SDK's own retries off so tests see every error. */
export function fakeClients(url: string): {
  codebuild: CodeBuildClient;
  logs: CloudWatchLogsClient;
} {
  const config = {
    endpoint: url,
    region: FAKE_REGION,
    credentials: { accessKeyId: 'AKIDFAKE', secretAccessKey: 'fake-secret' },
    maxAttempts: 1,
  };
  return { codebuild: new CodeBuildClient(config), logs: new CloudWatchLogsClient(config) };
}

function toWire(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, v) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : v;
  });
}

export async function startFakeCodeBuild(
  options: { now?: () => number } = {},
): Promise<FakeCodeBuild> {
  const now = options.now ?? Date.now;
  const seconds = () => now() / 1000;
  const calls: RecordedCall[] = [];
  const perOp = new Map<string, number>();
  const builds = new Map<string, Scripted>();
  const batches = new Map<string, Scripted>();
  const tokens = new Map<string, { params: string; id: string }>();
  const streams = new Map<string, { timestamp: number; message: string }[]>();
  let rules: FailureRule[] = [];

  function newObject(kind: 'build' | 'build-batch', init: Partial<WireObject>): WireObject {
    const projectName = (init.projectName as string | undefined) ?? 'demo';
    const id = init.id ?? `${projectName}:${randomUUID()}`;
    const base: WireObject = {
      id,
      arn: `arn:aws:codebuild:${FAKE_REGION}:${FAKE_ACCOUNT}:${kind}/${id}`,
      projectName,
      startTime: seconds(),
      currentPhase: 'SUBMITTED',
      ...(kind === 'build'
        ? {
            buildStatus: 'IN_PROGRESS',
            buildComplete: false,
            logs: {
              cloudWatchLogsArn: `arn:aws:logs:${FAKE_REGION}:${FAKE_ACCOUNT}:log-group:null:log-stream:null`,
              cloudWatchLogs: { status: 'ENABLED' },
            },
          }
        : { buildBatchStatus: 'IN_PROGRESS', complete: false }),
    };
    return { ...base, ...init, id };
  }

  const fake: FakeCodeBuild = {
    url: '',
    calls,
    count: (op) => calls.filter((c) => c.op === op).length,
    projects: new Set(['demo']),
    onStart: () => [],
    logPageSize: 100,
    addBuild(init = {}, ...upcoming) {
      const current = newObject('build', init);
      builds.set(current.id, { current, upcoming });
      return current;
    },
    addBatch(init = {}, ...upcoming) {
      const current = newObject('build-batch', init);
      batches.set(current.id, { current, upcoming });
      return current;
    },
    script(id, ...upcoming) {
      const entry = builds.get(id) ?? batches.get(id);
      if (!entry) throw new Error(`fake: no build ${id}`);
      entry.upcoming.push(...upcoming);
    },
    evolve(id, state) {
      const entry = builds.get(id) ?? batches.get(id);
      if (!entry) throw new Error(`fake: no build ${id}`);
      entry.evolve = state;
    },
    get: (id) => (builds.get(id) ?? batches.get(id))?.current,
    failWhen(op, when, type, message = type === 'ThrottlingException' ? 'Rate exceeded' : type) {
      rules.push({ op, when, type, message });
    },
    clearFailures() {
      rules = [];
    },
    appendLogs(group, stream, messages) {
      const key = `${group}\n${stream}`;
      const events = streams.get(key) ?? [];
      for (const m of messages) {
        events.push(typeof m === 'string' ? { timestamp: now(), message: m } : m);
      }
      streams.set(key, events);
    },
    close: async () => {},
  };

  function advance(entry: Scripted): WireObject {
    const patch = entry.evolve ? entry.evolve(now()) : entry.upcoming.shift();
    if (patch) entry.current = { ...entry.current, ...patch, id: entry.current.id };
    return entry.current;
  }

  function batchGet(
    store: Map<string, Scripted>,
    ids: unknown,
  ): { found: WireObject[]; missing: string[] } {
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 100) {
      throw new ApiError(
        'InvalidInputException',
        '1 validation error detected: ids must have 1 to 100 members',
      );
    }
    const found: WireObject[] = [];
    const missing: string[] = [];
    for (const id of ids as string[]) {
      const entry = store.get(id);
      if (entry) found.push(advance(entry));
      else missing.push(id);
    }
    return { found, missing };
  }

  function start(kind: 'build' | 'build-batch', body: Record<string, unknown>): WireObject {
    const projectName = String(body.projectName);
    if (!fake.projects.has(projectName)) {
      throw new ApiError(
        'ResourceNotFoundException',
        `Project cannot be found: arn:aws:codebuild:${FAKE_REGION}:${FAKE_ACCOUNT}:project/${projectName}`,
      );
    }
    const variables = (body.environmentVariablesOverride ?? []) as {
      name: string;
      value: string;
      type?: string;
    }[];
    for (const v of variables) {
      if (v.name.startsWith('CODEBUILD_')) {
        throw new ApiError(
          'InvalidInputException',
          `Invalid environment variable name: ${v.name}; names starting with CODEBUILD_ are reserved`,
        );
      }
    }
    const timeout = (body.timeoutInMinutesOverride ?? body.buildTimeoutInMinutesOverride) as
      | number
      | undefined;
    if (timeout !== undefined && (timeout < 5 || timeout > 2160)) {
      throw new ApiError('InvalidInputException', 'Timeout in minutes must be between 5 and 2160');
    }
    const token = body.idempotencyToken as string | undefined;
    const { idempotencyToken: _ignored, ...params } = body;
    const paramsText = JSON.stringify(params);
    if (token !== undefined) {
      const seen = tokens.get(token);
      if (seen && seen.params !== paramsText) {
        throw new ApiError(
          'InvalidInputException',
          'Idempotency token reused with different parameters',
        );
      }
      const existing = seen && (builds.get(seen.id) ?? batches.get(seen.id));
      if (existing) return existing.current;
    }
    const init: Partial<WireObject> = {
      projectName,
      sourceVersion: body.sourceVersion,
      timeoutInMinutes: timeout ?? 60,
      environment: {
        type: 'LINUX_CONTAINER',
        image: body.imageOverride ?? 'aws/codebuild/standard:7.0',
        computeType: body.computeTypeOverride ?? 'BUILD_GENERAL1_SMALL',
        environmentVariables: variables.map((v) => ({ ...v, type: v.type ?? 'PLAINTEXT' })),
      },
    };
    const created = kind === 'build' ? fake.addBuild(init) : fake.addBatch(init);
    if (kind === 'build') fake.script(created.id, ...fake.onStart(created));
    if (token !== undefined) tokens.set(token, { params: paramsText, id: created.id });
    return created;
  }

  function getLogEvents(body: Record<string, unknown>) {
    const events = streams.get(`${body.logGroupName}\n${body.logStreamName}`);
    if (!events)
      throw new ApiError('ResourceNotFoundException', 'The specified log stream does not exist.');
    const token = body.nextToken as string | undefined;
    const offset = token ? Number(token.slice(2)) : 0;
    const page = events.slice(offset, offset + fake.logPageSize);
    const next = offset + page.length;
    return {
      events: page.map((e) => ({ ...e, ingestionTime: e.timestamp })),
      nextForwardToken: `f/${String(next).padStart(20, '0')}`,
      nextBackwardToken: `b/${String(offset).padStart(20, '0')}`,
    };
  }

  function handle(op: string, body: Record<string, unknown>): unknown {
    switch (op) {
      case 'CodeBuild_20161006.StartBuild':
        return { build: start('build', body) };
      case 'CodeBuild_20161006.StartBuildBatch':
        return { buildBatch: start('build-batch', body) };
      case 'CodeBuild_20161006.BatchGetBuilds': {
        const { found, missing } = batchGet(builds, body.ids);
        return { builds: found, buildsNotFound: missing };
      }
      case 'CodeBuild_20161006.BatchGetBuildBatches': {
        const { found, missing } = batchGet(batches, body.ids);
        return { buildBatches: found, buildBatchesNotFound: missing };
      }
      case 'CodeBuild_20161006.StopBuild': {
        const entry = builds.get(String(body.id));
        if (!entry) throw new ApiError('ResourceNotFoundException', `Build ${body.id} not found`);
        entry.current = {
          ...entry.current,
          buildStatus: 'STOPPED',
          buildComplete: true,
          endTime: seconds(),
        };
        return { build: entry.current };
      }
      case 'Logs_20140328.GetLogEvents':
        return getLogEvents(body);
      default:
        throw new ApiError('UnknownOperationException', `fake does not answer ${op}`);
    }
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const op = target.split('.').pop() ?? '';
      const text = Buffer.concat(chunks).toString('utf8');
      const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
      const n = (perOp.get(op) ?? 0) + 1;
      perOp.set(op, n);
      const call: RecordedCall = { op, body, at: now() };
      calls.push(call);
      let status = 200;
      let answer: unknown;
      try {
        const rule = rules.find((r) => r.op === op && r.when(n));
        if (rule) throw new ApiError(rule.type, rule.message);
        if (req.method !== 'POST' || req.url !== '/')
          throw new ApiError('UnknownOperationException', 'POST / only');
        answer = handle(target, body);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        status = 400;
        call.error = error.type;
        answer = { __type: error.type, message: error.message };
      }
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID(),
      });
      res.end(toWire(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
