/**
 * `codebuild-run serve`: the webhook server as a process. `startServer` assembles it (config,
 * store, AWS or the in-process local CodeBuild, the worker, the hono app on node:http) and
 * `runServe` is the command: one ready line on stdout, JSON logs on stderr, graceful stop on
 * SIGTERM/SIGINT (deliveries get 503, the worker finishes its steps, the store closes, exit 0).
 */
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Build } from '@aws-sdk/client-codebuild';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger as PinoLogger } from 'pino';
import type { Config } from '../src/config.js';
import { type Fetch, systemClock } from '../src/deps.js';
import type { LocalCodeBuild } from '../src/local/index.js';
import { SecretReader } from '../src/secrets.js';
import { openSqliteStore, type Store } from '../src/store/index.js';
import { lockDataDir } from '../src/store/lock.js';
import { AcceptBatcher } from './accept-batcher.js';
import { createApp } from './app.js';
import {
  type AwsClients,
  awsClients,
  awsReadiness,
  chooseMode,
  localClients,
  resolvedRegion,
} from './aws.js';
import {
  type CrashHook,
  crashHookFromEnv,
  crashOnCodeBuild,
  crashOnStatus,
  testTimingFromEnv,
} from './crash.js';
import { createLogger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { type PipelineTiming, startPipeline } from './pipeline.js';
import {
  closeHttp,
  LOCAL_REGION,
  LOOPBACK_POLL_POLICY,
  listen,
  loopbackEndpoint,
  prewarmSecrets,
  readConfig,
  StartupError,
  startLocalCodeBuild,
} from './runtime.js';
import { createSecretResolver } from './secrets.js';
import { parseServeOptions, SERVE_USAGE, type ServeOptions, UsageError } from './serve-options.js';

export { StartupError } from './runtime.js';

export interface ServeIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborting it stops the server as SIGTERM does (for callers that embed it). */
  signal?: AbortSignal;
}

const SERVER_LOCK = { what: 'codebuild-run server', file: 'server.lock' };

export interface StartedServer {
  /** `http://<host>:<port>` as given to --host (127.0.0.1 by default). */
  readonly url: string;
  readonly mode: 'aws' | 'local';
  /** The in-process local CodeBuild's URL, or null with AWS. */
  readonly localCodeBuildUrl: string | null;
  readonly clients: AwsClients;
  readonly config: Config;
  readonly store: Store;
  /** Deliveries get 503, the worker stops, then the HTTP server, the local CodeBuild, the store. */
  close(): Promise<void>;
}

export interface StartExtras {
  /** Test-only crash points (default: from CODEBUILD_RUN_CRASH_AT). */
  crash?: CrashHook;
  timing?: Partial<PipelineTiming>;
  fetch?: Fetch;
}

export async function startServer(
  options: ServeOptions,
  env: Record<string, string | undefined>,
  logger: PinoLogger,
  extras: StartExtras = {},
): Promise<StartedServer> {
  const { mode, why } = chooseMode(options.mode, env);
  const cleanup: Array<() => Promise<void> | void> = [];
  const undo = async () => {
    for (const step of cleanup.reverse()) await step();
  };
  try {
    // The first log line says where builds run.
    if (mode === 'local') {
      logger.info(
        { mode, why },
        `builds run on this machine: starting the local CodeBuild in this process, as ${why}`,
      );
    } else {
      logger.info({ mode, why }, `using AWS CodeBuild (${why})`);
    }
    const config = readConfig(options.configPath);
    // First, before the local CodeBuild takes its own part of the data directory.
    cleanup.push(lockDataDir(options.dataDir, process.pid, SERVER_LOCK));
    const crash = extras.crash ?? crashHookFromEnv(env.CODEBUILD_RUN_CRASH_AT);
    const timing = extras.timing ?? testTimingFromEnv(env.CODEBUILD_RUN_TEST_TIMING);

    let local: { endpoint: LocalCodeBuild; server: Server; url: string } | null = null;
    let clients: AwsClients;
    if (mode === 'local') {
      local = await startLocalCodeBuild(options, config, logger);
      const started = local;
      cleanup.push(() => closeHttp(started.server).then(() => started.endpoint.close()));
      clients = localClients(local.url, LOCAL_REGION);
    } else {
      clients = awsClients(config);
      if ((await resolvedRegion(clients.codebuild)) === null) {
        throw new StartupError(
          'no AWS region: set AWS_REGION in the environment, or region: in the config',
        );
      }
    }
    crashOnCodeBuild(clients.codebuild, crash);

    const store = openSqliteStore({ path: join(options.dataDir, 'server.sqlite') });
    cleanup.push(() => store.close());
    // Deliveries share transactions (group commit); what is still queued is written before closing.
    const accepts = new AcceptBatcher(store);
    cleanup.push(() => accepts.close());
    // The lock makes this process the store's only user, so claims still held in it belong to a
    // process that died: release them, and its jobs resume now rather than when claims lapse.
    const resumed = store.releaseClaims(systemClock.now());
    if (resumed > 0) logger.info({ jobs: resumed }, 'resuming the unfinished jobs of the last run');
    const secrets = createSecretResolver({
      env,
      reader: new SecretReader({
        client: clients.secretsManager,
        clock: systemClock,
        logger: logger.child({ component: 'secrets' }),
      }),
    });
    await prewarmSecrets(config, secrets, logger);

    const metrics = new ServerMetrics();
    const localUrl = local?.url;
    const pipeline = startPipeline({
      config,
      store,
      clients,
      secrets,
      metrics,
      logger,
      fetch: crashOnStatus(extras.fetch ?? globalThis.fetch, crash),
      cacheDir: join(options.dataDir, 'repo-cache'),
      gitEnv: env,
      concurrency: options.concurrency,
      ...(mode === 'local' || loopbackEndpoint(env) ? { watchPolicy: LOOPBACK_POLL_POLICY } : {}),
      ...(timing ? { timing } : {}),
      ...(localUrl
        ? {
            buildUrl: (build: Build) =>
              `${localUrl}/_local/builds/${encodeURIComponent(build.id ?? '')}/log`,
          }
        : {}),
    });
    cleanup.push(() => pipeline.stop());

    let draining = false;
    const app = createApp({
      config,
      store,
      accepts,
      secrets,
      worker: pipeline,
      logger: logger.child({ component: 'http' }),
      clock: systemClock,
      metrics,
      checkAws: awsReadiness(clients.codebuild, config),
      watcherCalls: () => pipeline.watcherCalls(),
      bodyLimitBytes: options.bodyLimitBytes,
      draining: () => draining,
      crash,
    });
    const server = createAdaptorServer({ fetch: app.fetch }) as Server;
    const port = await listen(server, options.port, options.host);
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    logger.info({ port, host: options.host, dataDir: options.dataDir }, 'listening');

    let closing: Promise<void> | undefined;
    return {
      url: `http://${host}:${port}`,
      mode,
      localCodeBuildUrl: local?.url ?? null,
      clients,
      config,
      store,
      close: () => {
        closing ??= (async () => {
          draining = true;
          logger.info('shutting down: deliveries now get 503');
          await pipeline.stop();
          cleanup.pop(); // the pipeline is stopped
          await closeHttp(server);
          await undo();
          logger.info('stopped');
        })();
        return closing;
      },
    };
  } catch (error) {
    await undo();
    throw error;
  }
}

export async function runServe(argv: string[], io: ServeIo): Promise<number> {
  let options: ServeOptions;
  try {
    options = parseServeOptions(argv, io.env, io.cwd);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`codebuild-run serve: ${error.message}\nSee codebuild-run serve --help.\n`);
    return 2;
  }
  if (options.help) {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  const logger = createLogger({ level: options.logLevel });
  let server: StartedServer;
  try {
    server = await startServer(options, io.env, logger);
  } catch (error) {
    const known = error instanceof StartupError || (error as { code?: string }).code;
    io.stderr.write(`codebuild-run serve: ${(error as Error).message}\n`);
    logger.flush();
    return known ? 2 : 1;
  }
  io.stdout.write(
    `codebuild-run serve: listening on ${server.url} (deliveries: POST ${server.url}/webhooks/<host id>)\n`,
  );
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      io.signal?.removeEventListener('abort', stop);
      done();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop, { once: true });
  });
  await server.close();
  logger.flush();
  return 0;
}
