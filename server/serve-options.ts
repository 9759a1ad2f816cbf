/** `codebuild-run serve`'s command line: its options, defaults and usage text. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { CodeBuildMode } from './aws.js';
import { LOG_LEVELS, type LogLevel } from './logger.js';
import { DEFAULT_BODY_LIMIT } from './webhook.js';

export const SERVE_USAGE = `Usage: codebuild-run serve [options]

The webhook server: git hosts POST pushes to /webhooks/<host id>; each push that a rule of the
config matches starts a CodeBuild build, and its commit status (pending, then success or
failure with a link) is posted back to the host. Also GET /healthz, /readyz and /metrics.

With AWS credentials in the environment (AWS_ACCESS_KEY_ID, AWS_PROFILE, a role, or
AWS_ENDPOINT_URL) builds run in AWS CodeBuild; with none, the local CodeBuild starts in this
process on 127.0.0.1 and runs them on this machine.

Options:
  --config FILE       hosts and rules (YAML or JSON); default $CODEBUILD_RUN_CONFIG, else
                      ./codebuild-run.yml
  --port P            port to listen on (default 8080; 0 picks a free one)
  --host ADDR         address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)
  --data-dir DIR      where deliveries and builds in flight are kept (and the local CodeBuild's
                      builds); default $XDG_STATE_HOME/codebuild-run/server
  --body-limit SIZE   largest delivery accepted, in bytes or with k/m (default 5m)
  --concurrency N     pipeline steps run at once (default 8)
  --aws | --local     use AWS, or the local CodeBuild, whatever the environment says
  --log-level L       debug, info, warn or error (default info; JSON logs go to stderr)
  --help              this text

Stops on SIGTERM or SIGINT: deliveries get 503, steps in progress finish, builds in flight are
picked up again at the next start.
`;

export class UsageError extends Error {}

export interface ServeOptions {
  help: boolean;
  configPath: string;
  port: number;
  host: string;
  dataDir: string;
  bodyLimitBytes: number;
  concurrency: number;
  mode: CodeBuildMode;
  logLevel: LogLevel;
}

function size(text: string): number {
  const match = /^(\d+)\s*(k|kb|m|mb)?$/i.exec(text.trim());
  if (!match) throw new UsageError(`--body-limit ${text}: write bytes, e.g. 5242880, or 512k, 5m`);
  const unit = (match[2] ?? '').toLowerCase();
  const bytes = Number(match[1]) * (unit.startsWith('m') ? 1024 * 1024 : unit ? 1024 : 1);
  if (bytes < 1024 || bytes > 100 * 1024 * 1024) {
    throw new UsageError(`--body-limit ${text}: choose from 1k to 100m`);
  }
  return bytes;
}

export function parseServeOptions(
  argv: string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): ServeOptions {
  const parse = () =>
    parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        port: { type: 'string', default: '8080' },
        host: { type: 'string', default: '127.0.0.1' },
        'data-dir': { type: 'string' },
        'body-limit': { type: 'string' },
        concurrency: { type: 'string', default: '8' },
        aws: { type: 'boolean', default: false },
        local: { type: 'boolean', default: false },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', default: false },
      },
    }).values;
  let values: ReturnType<typeof parse>;
  try {
    values = parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    throw new UsageError(`--port ${values.port} is not a port number (0-65535)`);
  }
  if (!LOG_LEVELS.includes(values['log-level'] as LogLevel)) {
    throw new UsageError(`--log-level ${values['log-level']}: use ${LOG_LEVELS.join(', ')}`);
  }
  const concurrency = Number(values.concurrency);
  if (!/^\d+$/.test(values.concurrency) || concurrency < 1 || concurrency > 256) {
    throw new UsageError(
      `--concurrency ${values.concurrency}: choose a whole number from 1 to 256`,
    );
  }
  if (values.aws && values.local) throw new UsageError('give --aws or --local, not both');
  const stateHome = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  const configPath = values.config ?? env.CODEBUILD_RUN_CONFIG ?? join(cwd, 'codebuild-run.yml');
  if (!values.help && !existsSync(resolve(cwd, configPath))) {
    throw new UsageError(
      values.config || env.CODEBUILD_RUN_CONFIG
        ? `the config file ${configPath} does not exist`
        : `no config: pass --config FILE (or set CODEBUILD_RUN_CONFIG, or write ./codebuild-run.yml), e.g.
  hosts:
    github: { kind: github, webhookSecret: { env: GITHUB_WEBHOOK_SECRET }, apiToken: { env: GITHUB_TOKEN } }
  rules:
    - { repos: ["my-org/*"], project: my-codebuild-project }`,
    );
  }
  return {
    help: values.help,
    configPath: resolve(cwd, configPath),
    port,
    host: values.host,
    dataDir: resolve(cwd, values['data-dir'] ?? join(stateHome, 'codebuild-run', 'server')),
    bodyLimitBytes: values['body-limit'] ? size(values['body-limit']) : DEFAULT_BODY_LIMIT,
    concurrency,
    mode: values.aws ? 'aws' : values.local ? 'local' : 'auto',
    logLevel: values['log-level'] as LogLevel,
  };
}
