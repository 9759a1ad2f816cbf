/**
 * The pipeline end to end in one process over real HTTP: a real SQLite store in a temporary
 * directory, the fake CodeBuild endpoint driven by the real AWS SDK, one shared BuildWatcher, and
 * an HTTP recorder standing in for the GitHub API. Timings are shortened; nothing else is faked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildWatcher } from '../../src/codebuild/index.js';
import { parseConfig, type SecretSource } from '../../src/config.js';
import { type Logger, systemClock } from '../../src/deps.js';
import type { CommitState, PushEvent } from '../../src/forge/types.js';
import { type PlannedBuild, planBuilds } from '../../src/plan.js';
import { type JobRecord, openSqliteStore, type Store } from '../../src/store/index.js';
import { type PipelineTiming, type TriggerDeps, Worker } from '../../src/trigger.js';
import {
  type FakeCodeBuild,
  fakeClients,
  startFakeCodeBuild,
  type WireObject,
} from '../support/fake-codebuild.js';
import {
  type HttpRecorder,
  type RecordedRequest,
  type ScriptedAnswer,
  startHttpRecorder,
} from '../support/http-recorder.js';

export const FAST_TIMING: Partial<PipelineTiming> = {
  pollIntervalMs: 50,
  stepLeaseMs: 3_000,
  watchLeaseMs: 1_000,
  retryBaseMs: 20,
  retryMaxMs: 200,
  hostRetryBudgetMs: 600,
  stopGraceMs: 3_000,
};

const FAST_POLL = {
  floorMs: 20,
  fastMs: 30,
  slowMs: 150,
  backoffBaseMs: 20,
  backoffMaxMs: 150,
};

export const API_TOKEN = 'api-token-value-1';
export const CLONE_TOKEN_REF = 'ci/github:token';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  fields: Record<string, unknown>;
  message: string;
}

/** A Logger that keeps every entry, child bindings merged in. */
export function recordingLogger(entries: LogEntry[], bindings: object = {}): Logger {
  const at =
    (level: LogEntry['level']) =>
    (fields: object, message = '') =>
      entries.push({ level, fields: { ...bindings, ...fields }, message });
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => recordingLogger(entries, { ...bindings, ...more }),
  };
}

export interface Status {
  sha: string;
  state: string;
  description: string;
  targetUrl: string | undefined;
  context: string;
  authorization: string | undefined;
  /** The HTTP status the recorder answered. */
  answered: number;
}

export interface HarnessOptions {
  /** Extra keys for the one rule, as YAML lines (e.g. `cancelSuperseded: true`). */
  rule?: string[];
  /** The rule's buildspec key as YAML; default the inline INLINE_BUILDSPEC. */
  buildspec?: string;
  /** Decides the host's answer per status request; default 201. */
  hostAnswer?: (request: RecordedRequest, index: number) => ScriptedAnswer;
  concurrency?: number;
}

export interface Harness {
  store: Store;
  /** The store's SQLite file, for tests that damage a row. */
  storePath: string;
  fake: FakeCodeBuild;
  host: HttpRecorder;
  deps: TriggerDeps;
  logs: LogEntry[];
  metrics: { posted: Array<[string, CommitState]>; failed: string[]; started: string[] };
  /** The value deps.secrets resolves the API token to; invalidate() calls are counted. */
  secrets: { token: string; invalidations: number };
  worker(): Worker;
  /** Plans and accepts a push of `sha` to `branch` (received now, or at `receivedAt`). */
  push(sha: string, branch?: string, receivedAt?: number): JobRecord[];
  plan(sha: string, branch?: string): { event: PushEvent; plan: PlannedBuild };
  statuses(): Status[];
  job(id: string): JobRecord;
  close(): Promise<void>;
}

export function hexSha(seed: number): string {
  return seed.toString(16).padStart(8, '0').repeat(5);
}

export function pushEvent(sha: string, branch = 'main', delivery = `delivery-${sha}`): PushEvent {
  return {
    host: 'github',
    deliveryId: delivery,
    repo: {
      fullName: 'octo/app',
      id: null,
      cloneUrl: 'https://github.com/octo/app.git',
      webUrl: 'https://github.com/octo/app',
      defaultBranch: 'main',
      private: true,
    },
    ref: `refs/heads/${branch}`,
    refName: branch,
    refKind: 'branch',
    before: null,
    sha,
    created: false,
    deleted: false,
    headCommitMessage: 'Change things',
    changedPaths: null,
    pusher: 'octocat',
  };
}

export const INLINE_BUILDSPEC = 'version: 0.2\nphases:\n  build:\n    commands:\n      - make\n';

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'pipeline-test-'));
  const storePath = join(dir, 'store.sqlite');
  const store = openSqliteStore({ path: storePath });
  const fake = await startFakeCodeBuild();
  const answers: number[] = [];
  const host = await startHttpRecorder((request) => {
    const answer = options.hostAnswer?.(request, answers.length) ?? { status: 201, body: {} };
    answers.push(answer.status);
    return answer;
  });
  const config = parseConfig(
    [
      'hosts:',
      '  gh:',
      '    kind: github',
      `    apiUrl: ${host.url}`,
      '    apiToken: { env: GH_API_TOKEN }',
      `    cloneToken: ${CLONE_TOKEN_REF}`,
      'rules:',
      '  - name: ci',
      '    repos: ["octo/*"]',
      '    project: demo',
      `    buildspec: ${options.buildspec ?? `{ inline: ${JSON.stringify(INLINE_BUILDSPEC)} }`}`,
      ...(options.rule ?? []).map((line) => `    ${line}`),
    ].join('\n'),
    'harness config',
  );
  const { codebuild } = fakeClients(fake.url);
  const logs: LogEntry[] = [];
  const logger = recordingLogger(logs);
  const watcher = new BuildWatcher({
    client: codebuild,
    clock: systemClock,
    logger,
    policy: FAST_POLL,
  });
  const secrets = { token: API_TOKEN, invalidations: 0 };
  const metrics: Harness['metrics'] = { posted: [], failed: [], started: [] };
  const deps: TriggerDeps = {
    config,
    store,
    codebuild,
    watcher,
    secrets: {
      resolve: async (source: SecretSource) => {
        if (source.from !== 'env' || source.name !== 'GH_API_TOKEN') {
          throw new Error(`the harness has no secret ${JSON.stringify(source)}`);
        }
        return secrets.token;
      },
      invalidate: () => {
        secrets.invalidations++;
      },
    },
    repoFiles: {
      readFile: async () => {
        throw new Error('the harness reads no repository files');
      },
      resolveCommit: async () => {
        throw new Error('the harness resolves no tags');
      },
    },
    fetch: globalThis.fetch,
    clock: systemClock,
    logger,
    metrics: {
      statusPosted: (hostId, state) => metrics.posted.push([hostId, state]),
      statusFailed: (hostId) => metrics.failed.push(hostId),
      buildStarted: (project) => metrics.started.push(project),
    },
    timing: FAST_TIMING,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  };
  const workers: Worker[] = [];
  const plan = (sha: string, branch = 'main') => {
    const event = pushEvent(sha, branch);
    const result = planBuilds(config, 'gh', event);
    if (!('builds' in result) || result.builds.length !== 1) {
      throw new Error(`expected one planned build, got ${JSON.stringify(result)}`);
    }
    return { event, plan: result.builds[0]! };
  };
  return {
    store,
    storePath,
    fake,
    host,
    deps,
    logs,
    metrics,
    secrets,
    worker() {
      const worker = new Worker(deps);
      workers.push(worker);
      return worker;
    },
    plan,
    push(sha, branch = 'main', receivedAt = Date.now()) {
      const { event, plan: build } = plan(sha, branch);
      const accepted = store.acceptDelivery({
        hostId: 'gh',
        deliveryId: event.deliveryId,
        receivedAt,
        outcome: 'planned',
        reason: null,
        jobs: [
          {
            id: build.planId,
            repo: event.repo.fullName,
            ref: event.ref,
            sha,
            ruleName: build.ruleName,
            projectName: build.projectName,
            statusContext: build.statusContext,
            event,
            plan: build,
          },
        ],
      });
      return accepted.created;
    },
    statuses() {
      return host.requests.map((request, index) => {
        const body = JSON.parse(request.body) as Record<string, string>;
        const sha = /\/statuses\/([0-9a-f]+)$/.exec(request.path)?.[1] ?? '';
        return {
          sha,
          state: body.state!,
          description: body.description!,
          targetUrl: body.target_url,
          context: body.context!,
          authorization: request.headers.authorization,
          answered: answers[index] ?? 0,
        };
      });
    },
    job(id) {
      const found = store.getJob(id);
      if (!found) throw new Error(`no job ${id}`);
      return found;
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.stop()));
      watcher.close();
      await host.close();
      await fake.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `condition` every 10 ms until it holds; fails after `timeoutMs` saying what was awaited. */
export async function waitFor(
  what: string,
  condition: () => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The build's CBR_SHA variable: which push a fake build belongs to. */
export function shaOf(build: WireObject): string | undefined {
  const environment = build.environment as
    | { environmentVariables?: { name: string; value: string }[] }
    | undefined;
  return environment?.environmentVariables?.find((v) => v.name === 'CBR_SHA')?.value;
}

/** Script patches: the build runs a moment, then ends as `end` says. */
export function succeeds(build: WireObject): Partial<WireObject>[] {
  const start = build.startTime as number;
  return [
    { currentPhase: 'BUILD' },
    {
      buildStatus: 'SUCCEEDED',
      currentPhase: 'COMPLETED',
      buildComplete: true,
      endTime: start + 192,
    },
  ];
}

export function failsInBuild(build: WireObject): Partial<WireObject>[] {
  const start = build.startTime as number;
  return [
    { currentPhase: 'BUILD' },
    {
      buildStatus: 'FAILED',
      currentPhase: 'COMPLETED',
      buildComplete: true,
      endTime: start + 60,
      phases: [
        { phaseType: 'INSTALL', phaseStatus: 'SUCCEEDED', durationInSeconds: 3 },
        {
          phaseType: 'BUILD',
          phaseStatus: 'FAILED',
          durationInSeconds: 42,
          contexts: [
            {
              statusCode: 'COMMAND_EXECUTION_ERROR',
              message: 'Error while executing command: make. Reason: exit status 2',
            },
          ],
        },
      ],
    },
  ];
}
