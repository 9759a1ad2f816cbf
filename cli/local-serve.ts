/**
 * `codebuild-run local serve`: the local CodeBuild on 127.0.0.1, until SIGTERM or SIGINT.
 * Prints one line when ready: `local CodeBuild listening on http://127.0.0.1:<port>`.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createAdaptorServer } from '@hono/node-server';
import { pino } from 'pino';
import { systemClock } from '../src/deps.js';
import {
  createLocalCodeBuild,
  type LocalCodeBuild,
  type LocalConfig,
  parseFault,
  parseLocalConfig,
} from '../src/local/index.js';

export interface LocalServeIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  /** Aborting it shuts the server down as SIGTERM does (for callers that embed it). */
  signal?: AbortSignal;
}

const USAGE = `Usage: codebuild-run local serve [options]

Answers the CodeBuild, CloudWatch Logs and Secrets Manager calls of any AWS SDK on 127.0.0.1 and
runs the builds on this machine. Point a client at it with
  AWS_ENDPOINT_URL=http://127.0.0.1:<port> (any credentials and region)

Options:
  --port P          port on 127.0.0.1 (default 8474; 0 picks a free one)
  --data-dir DIR    where builds, logs, secrets and projects are kept
                    (default $XDG_STATE_HOME/codebuild-run/local)
  --projects FILE   YAML or JSON with projects, parameters and secrets to load at start
  --fault SPEC      inject a fault, repeatable: <Operation>=throttle:N | throttle-every:K |
                    account-limit[:N] | server-error:N | latency:MS  (Operation * for all);
                    at run time: POST /_local/faults {"faults": [SPEC, ...]}, DELETE to clear
  --region R        region in ARNs (default $AWS_REGION or us-east-1)
  --account-id ID   account in ARNs (default 000000000000)
  --log-level L     debug, info, warn or error (default info; logs go to stderr)
  --help            this text
`;

class UsageError extends Error {}

function readOptions(argv: string[], env: LocalServeIo['env']) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string', default: '8474' },
      'data-dir': { type: 'string' },
      projects: { type: 'string' },
      fault: { type: 'string', multiple: true, default: [] },
      region: { type: 'string' },
      'account-id': { type: 'string', default: '000000000000' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    throw new UsageError(`--port ${values.port} is not a port number (0-65535)`);
  }
  if (!['debug', 'info', 'warn', 'error'].includes(values['log-level'])) {
    throw new UsageError(`--log-level ${values['log-level']}: use debug, info, warn or error`);
  }
  if (!/^\d{12}$/.test(values['account-id'])) {
    throw new UsageError(`--account-id ${values['account-id']} must be 12 digits`);
  }
  for (const spec of values.fault) parseFault(spec);
  const stateHome = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return {
    help: values.help,
    port,
    dataDir: resolve(values['data-dir'] ?? join(stateHome, 'codebuild-run', 'local')),
    projects: values.projects,
    faults: values.fault,
    region: values.region ?? env.AWS_REGION ?? 'us-east-1',
    accountId: values['account-id'],
    logLevel: values['log-level'],
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

export async function runLocalServe(argv: string[], io: LocalServeIo): Promise<number> {
  let options: ReturnType<typeof readOptions>;
  try {
    options = readOptions(argv, io.env);
  } catch (error) {
    io.stderr.write(`codebuild-run local serve: ${(error as Error).message}\nSee --help.\n`);
    return 2;
  }
  if (options.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const logger = pino(
    { level: options.logLevel, base: { component: 'local-codebuild' } },
    pino.destination(2),
  );
  let projects: LocalConfig | undefined;
  let endpoint: LocalCodeBuild;
  try {
    if (options.projects) {
      projects = parseLocalConfig(readFileSync(options.projects, 'utf8'), options.projects);
    }
    endpoint = createLocalCodeBuild({
      dataDir: options.dataDir,
      clock: systemClock,
      logger,
      region: options.region,
      accountId: options.accountId,
      faults: options.faults,
      ...(projects ? { projects, projectsSource: options.projects } : {}),
    });
  } catch (error) {
    io.stderr.write(`codebuild-run local serve: ${(error as Error).message}\n`);
    return 1;
  }

  const server = createAdaptorServer({ fetch: endpoint.handle }) as Server;
  let port: number;
  try {
    port = await listen(server, options.port);
  } catch (error) {
    await endpoint.close();
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr.write(
      code === 'EADDRINUSE'
        ? `codebuild-run local serve: port ${options.port} on 127.0.0.1 is in use; pick another with --port (0 for any free one)\n`
        : `codebuild-run local serve: cannot listen on 127.0.0.1:${options.port}: ${(error as Error).message}\n`,
    );
    return 1;
  }
  logger.info({ dataDir: options.dataDir, recoveredBuilds: endpoint.recoveredBuilds }, 'ready');
  io.stdout.write(`local CodeBuild listening on http://127.0.0.1:${port}\n`);

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
  logger.info('shutting down');
  await new Promise<void>((closed) => {
    server.close(() => closed());
    server.closeAllConnections();
  });
  await endpoint.close();
  return 0;
}
