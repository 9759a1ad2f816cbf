/**
 * `codebuild-run local run`: one build of a buildspec on this machine, in the foreground, with
 * CodeBuild's semantics (the local executor), live logs and a summary. Exit 0 only when the build
 * SUCCEEDED, 1 otherwise, 2 for a usage error. Ctrl-C stops the build (STOPPED); a second Ctrl-C
 * quits at once.
 */
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { systemClock } from '../src/deps.js';
import {
  type BuildEnvironmentVariable,
  createMemoryResolvers,
  executeBuild,
  formatBuildSummary,
  SecretMasker,
} from '../src/local/executor/index.js';

export interface LocalRunIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  cwd: string;
  /** Aborting it stops the build as Ctrl-C does (for callers that embed it). */
  signal?: AbortSignal;
}

export const LOCAL_RUN_USAGE = `Usage: codebuild-run local run [options]

Runs one build of a buildspec (version 0.2) on this machine with CodeBuild's semantics: all
commands in one shell, CodeBuild's phases and transitions, finally, on-failure, exported
variables, secrets masked in the log, artifacts. Commands run on this host, not in a Docker image;
runtime-versions and run-as are accepted and not applied. Ctrl-C stops the build (STOPPED).
Exit status: 0 when the build SUCCEEDED, 1 when it did not, 2 for a usage error.

Options:
  --buildspec FILE      the buildspec to run (default: buildspec.yml in the current directory)
                          --buildspec ci/buildspec.yml
  --src DIR             the source, copied into a fresh build directory that becomes
                        $CODEBUILD_SRC_DIR; DIR itself is never changed (default: .)
                          --src ../my-service
  --env NAME=VALUE      a PLAINTEXT variable, as a StartBuild override: it ranks above the
                        buildspec's env.variables; repeatable; CODEBUILD_* names are reserved
                          --env STAGE=test --env DEBUG=1
  --secret NAME=VALUE   defines the secret NAME, with VALUE, in an in-memory Secrets Manager;
                        repeatable. The buildspec reads it with
                          env: { secrets-manager: { VAR: NAME } }      the whole value
                          env: { secrets-manager: { VAR: NAME:key } }  key "key" of a JSON value
                        (a version stage or id after the key is accepted and ignored: the store
                        holds one version). When NAME is a valid variable name the build also
                        gets $NAME = VALUE, as a SECRETS_MANAGER override. Every value read from
                        the store is masked (***) in the log and the summary.
                          --secret NPM_TOKEN=abc123 --secret 'db={"password":"pw"}'
  --parameter NAME=VALUE
                        defines the Parameter Store parameter NAME, with VALUE, in memory;
                        the buildspec reads it with env: { parameter-store: { VAR: NAME } };
                        masked like secrets; repeatable
                          --parameter /team/license=xyz
  --timeout MINUTES     the build timeout; the running phase and the build end TIMED_OUT
                        (default 60; fractions allowed, at most 2160)
                          --timeout 15
  --artifacts DIR       copy the build's artifacts (the buildspec's artifacts section) to DIR;
                        without it they are not kept
                          --artifacts ./out
  --help                this text

Example:
  codebuild-run local run --buildspec buildspec.yml --src . --env STAGE=test \\
    --secret NPM_TOKEN="$NPM_TOKEN" --artifacts ./out
`;

/** What a build may see of the caller's environment; everything else comes from the flags. */
const PASSED_THROUGH = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TERM',
];
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

class UsageError extends Error {}

/** `argv` is what follows `local run`. */
export async function runLocalRun(argv: string[], io: LocalRunIo): Promise<number> {
  let options: Awaited<ReturnType<typeof readOptions>>;
  try {
    options = await readOptions(argv, io);
  } catch (error) {
    const fromParseArgs = String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
    if (!(error instanceof UsageError) && !fromParseArgs) throw error;
    io.stderr.write(
      `codebuild-run local run: ${(error as Error).message}\nRun codebuild-run local run --help for the options.\n`,
    );
    return 2;
  }
  if (options === 'help') {
    io.stdout.write(LOCAL_RUN_USAGE);
    return 0;
  }

  const masker = new SecretMasker();
  const store = createMemoryResolvers(options.secrets, options.parameters);
  const remember = async (value: Promise<string>) => {
    const resolved = await value;
    masker.add(resolved);
    return resolved;
  };
  const stop = new AbortController();
  const onSignal = () => {
    io.stderr.write('Stopping the build (Ctrl-C again to quit at once)\n');
    stop.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  io.signal?.addEventListener('abort', () => stop.abort(), { once: true });

  const workRoot = await mkdtemp(join(tmpdir(), 'codebuild-run-local-'));
  const uuid = randomUUID();
  const region = io.env.AWS_REGION || io.env.AWS_DEFAULT_REGION || 'us-east-1';
  const accountId = '000000000000';
  try {
    const result = await executeBuild({
      buildId: `local:${uuid}`,
      buildArn: `arn:aws:codebuild:${region}:${accountId}:build/local:${uuid}`,
      buildNumber: 1,
      projectName: 'local',
      region,
      accountId,
      initiator: io.env.USER || 'local',
      buildspec: options.buildspec,
      source: { type: 'DIRECTORY', path: options.src },
      environmentVariables: options.variables,
      resolveSecret: (reference) => remember(store.resolveSecret(reference)),
      resolveParameter: (name) => remember(store.resolveParameter(name)),
      workRoot,
      timeoutMs: options.timeoutMinutes * 60_000,
      signal: stop.signal,
      clock: systemClock,
      onLog: (line) => io.stdout.write(`${line}\n`),
      onPhase: () => {},
      baseEnvironment: Object.fromEntries(
        PASSED_THROUGH.flatMap((name) => (io.env[name] ? [[name, io.env[name]]] : [])),
      ),
    });
    const lines = formatBuildSummary(`local:${uuid}`, result, (text) => masker.mask(text));
    if (result.artifactsDir) {
      const count = await countFiles(result.artifactsDir);
      if (options.artifacts) {
        await cp(result.artifactsDir, options.artifacts, { recursive: true });
        lines.push(`Artifacts: ${count} file(s) copied to ${options.artifacts}`);
      } else {
        lines.push(`Artifacts: ${count} file(s) not kept: pass --artifacts DIR to keep them`);
      }
    }
    io.stdout.write(`\n${lines.join('\n')}\n`);
    return result.buildStatus === 'SUCCEEDED' ? 0 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await rm(workRoot, { recursive: true, force: true });
  }
}

async function readOptions(argv: string[], io: LocalRunIo) {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      buildspec: { type: 'string' },
      src: { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      secret: { type: 'string', multiple: true, default: [] },
      parameter: { type: 'string', multiple: true, default: [] },
      timeout: { type: 'string', default: '60' },
      artifacts: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help' as const;

  const timeoutMinutes = Number(values.timeout);
  if (!/^\d+(\.\d+)?$/.test(values.timeout) || timeoutMinutes <= 0 || timeoutMinutes > 2160) {
    throw new UsageError(`--timeout ${values.timeout}: give minutes, more than 0 and at most 2160`);
  }
  const variables: BuildEnvironmentVariable[] = [];
  for (const [name, value] of values.env.map((item) => pair('--env', item))) {
    if (!VARIABLE_NAME.test(name)) {
      throw new UsageError(`--env ${name}=…: ${name} is not a variable name (letters, digits, _)`);
    }
    if (name.startsWith('CODEBUILD_')) {
      throw new UsageError(`--env ${name}=…: CODEBUILD_* variables are reserved, as in CodeBuild`);
    }
    variables.push({ name, value, type: 'PLAINTEXT' });
  }
  const secrets = new Map(values.secret.map((item) => pair('--secret', item)));
  for (const name of secrets.keys()) {
    if (VARIABLE_NAME.test(name) && !name.startsWith('CODEBUILD_')) {
      variables.push({ name, value: name, type: 'SECRETS_MANAGER' });
    }
  }
  const parameters = new Map(values.parameter.map((item) => pair('--parameter', item)));

  const buildspecPath = resolve(io.cwd, values.buildspec ?? 'buildspec.yml');
  const buildspec = await readFile(buildspecPath, 'utf8').catch(() => {
    throw new UsageError(
      values.buildspec
        ? `--buildspec ${values.buildspec}: cannot read ${buildspecPath}`
        : `no buildspec.yml in ${io.cwd}: pass --buildspec FILE`,
    );
  });
  const src = resolve(io.cwd, values.src ?? '.');
  if (
    !(await stat(src).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    throw new UsageError(`--src ${values.src}: ${src} is not a directory`);
  }
  const artifacts = values.artifacts === undefined ? undefined : resolve(io.cwd, values.artifacts);
  return { buildspec, src, variables, secrets, parameters, timeoutMinutes, artifacts };
}

/** `NAME=VALUE` (the value may hold `=`; the name may not be empty). */
function pair(flag: string, item: string): [string, string] {
  const at = item.indexOf('=');
  if (at <= 0) {
    // What follows --secret may be the secret itself: never echo it.
    const shown = flag === '--secret' ? '(value not shown)' : item;
    throw new UsageError(`${flag} ${shown}: expected NAME=VALUE`);
  }
  return [item.slice(0, at), item.slice(at + 1)];
}

async function countFiles(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => !entry.isDirectory()).length;
}
