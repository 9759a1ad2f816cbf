/**
 * `codebuild-run serve`: the webhook server as a process. `startServer` assembles it (config,
 * store, AWS or the in-process local CodeBuild, the worker, the hono app on node:http) and
 * `runServe` is the command: one ready line on stdout, JSON logs on stderr, graceful stop on
 * SIGTERM/SIGINT (deliveries get 503, the worker finishes its steps, the store closes, exit 0).
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Build } from '@aws-sdk/client-codebuild';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger as PinoLogger } from 'pino';
import { type Config, parseConfig } from '../src/config.js';
import { type Fetch, systemClock } from '../src/deps.js';
import { createLocalCodeBuild, type LocalCodeBuild } from '../src/local/index.js';
import { SecretReader } from '../src/secrets.js';
import { openSqliteStore, type Store } from '../src/store/index.js';
import { createApp } from './app.js';
import {
  type AwsClients,
  awsClients,
  awsReadiness,
  chooseMode,
  localClients,
  resolvedRegion,
  ruleProjects,
} from './aws.js';
import {
  type CrashHook,
  crashHookFromEnv,
  crashOnCodeBuild,
  crashOnStatus,
  testTimingFromEnv,
} from './crash.js';
import { describeError } from './http-error.js';
import { createLogger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { type PipelineTiming, startPipeline } from './pipeline.js';
import { createSecretResolver, type SecretResolver } from './secrets.js';
import { parseServeOptions, SERVE_USAGE, type ServeOptions, UsageError } from './serve-options.js';

export interface ServeIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborting it stops the server as SIGTERM does (for callers that embed it). */
  signal?: AbortSignal;
}

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

const LOCAL_REGION = 'us-east-1';
const SECRET_PREWARM_MS = 5000;
const HTTP_CLOSE_GRACE_MS = 5000;

/**
 * A CodeBuild on this machine (in-process, or AWS_ENDPOINT_URL on loopback) has no rate limit to
 * respect: its builds are looked at every half second, so statuses follow their end closely.
 */
const LOOPBACK_POLL_POLICY = { floorMs: 250, fastMs: 500, slowMs: 5000, backoffBaseMs: 500 };

function loopbackEndpoint(env: Record<string, string | undefined>): boolean {
  const endpoint = env.AWS_ENDPOINT_URL_CODEBUILD || env.AWS_ENDPOINT_URL;
  if (!endpoint) return false;
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

/** Thrown for problems the user fixes before starting (config, port, region): exit 2. */
export class StartupError extends Error {}

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
    const secrets = createSecretResolver({
      env,
      reader: new SecretReader({ client: clients.secretsManager, clock: systemClock }),
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

function readConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new StartupError(`cannot read the config ${path}: ${(error as Error).message}`);
  }
  return parseConfig(text, path);
}

async function startLocalCodeBuild(options: ServeOptions, config: Config, logger: PinoLogger) {
  const endpoint = createLocalCodeBuild({
    dataDir: join(options.dataDir, 'local-codebuild'),
    clock: systemClock,
    logger: logger.child({ component: 'local-codebuild' }),
    region: LOCAL_REGION,
    // Every project a rule names exists, with the local defaults (NO_SOURCE, standard image).
    projects: { projects: ruleProjects(config).map((name) => ({ name })) },
  });
  const server = createAdaptorServer({ fetch: endpoint.handle }) as Server;
  try {
    const port = await listen(server, 0, '127.0.0.1');
    const url = `http://127.0.0.1:${port}`;
    logger.info({ localCodeBuild: url }, 'local CodeBuild ready');
    return { endpoint, server, url };
  } catch (error) {
    await endpoint.close();
    throw error;
  }
}

/** Reads each host's webhook secret once now, so the first delivery does not wait for it. */
async function prewarmSecrets(config: Config, secrets: SecretResolver, logger: PinoLogger) {
  const reads = Object.entries(config.hosts).map(async ([hostId, host]) => {
    if (!host.webhookSecret) {
      logger.warn({ hostId }, 'this host has no webhookSecret: every delivery to it is refused');
      return;
    }
    try {
      await secrets.resolve(host.webhookSecret);
    } catch (error) {
      logger.warn({ hostId, err: describeError(error) }, 'the webhook secret cannot be read yet');
    }
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(reads),
    new Promise((resolve) => {
      timer = setTimeout(resolve, SECRET_PREWARM_MS);
    }),
  ]);
  clearTimeout(timer);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      reject(
        new StartupError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is in use: choose another with --port (0 for any free one)`
            : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      );
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Stops accepting, lets requests in progress finish, then cuts what is left. */
function closeHttp(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const force = setTimeout(() => server.closeAllConnections(), HTTP_CLOSE_GRACE_MS);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
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
