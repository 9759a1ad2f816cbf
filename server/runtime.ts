/**
 * The parts of a server process around the app: reading the config, the in-process local
 * CodeBuild, warming the secrets cache, listening and closing HTTP servers.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import type { Logger as PinoLogger } from 'pino';
import { type Config, parseConfig } from '../src/config.js';
import { systemClock } from '../src/deps.js';
import { createLocalCodeBuild } from '../src/local/index.js';
import { ruleProjects } from './aws.js';
import { describeError } from './http-error.js';
import type { SecretResolver } from './secrets.js';
import type { ServeOptions } from './serve-options.js';

export const LOCAL_REGION = 'us-east-1';
const SECRET_PREWARM_MS = 5000;
const HTTP_CLOSE_GRACE_MS = 5000;

/**
 * A CodeBuild on this machine (in-process, or AWS_ENDPOINT_URL on loopback) has no rate limit to
 * respect: its builds are looked at every half second, so statuses follow their end closely.
 */
export const LOOPBACK_POLL_POLICY = { floorMs: 250, fastMs: 500, slowMs: 5000, backoffBaseMs: 500 };

export function loopbackEndpoint(env: Record<string, string | undefined>): boolean {
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

export function readConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new StartupError(`cannot read the config ${path}: ${(error as Error).message}`);
  }
  return parseConfig(text, path);
}

export async function startLocalCodeBuild(
  options: ServeOptions,
  config: Config,
  logger: PinoLogger,
) {
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
export async function prewarmSecrets(config: Config, secrets: SecretResolver, logger: PinoLogger) {
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

export function listen(server: Server, port: number, host: string): Promise<number> {
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
export function closeHttp(server: Server): Promise<void> {
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
