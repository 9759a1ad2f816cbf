/**
 * Runs the COMMITTED bundle the way the GitHub runner does: `node dist/main.mjs` (or post.mjs) as
 * a child process, every input of action.yml as `INPUT_<NAME>` (hyphens kept, upper-cased, the
 * defaults filled in as the runner fills them), GITHUB_OUTPUT / GITHUB_STATE / GITHUB_STEP_SUMMARY
 * files in a temporary directory, GITHUB_* variables of a push, dummy AWS credentials and
 * AWS_ENDPOINT_URL pointing at the local CodeBuild. Nothing of the test's own environment leaks in.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { repoRoot } from '../support/fixtures.js';

export const MAIN = join(repoRoot, 'dist', 'main.mjs');
export const POST = join(repoRoot, 'dist', 'post.mjs');

/** Fails loudly (once, at import) when the bundle is missing: the tests run what is committed. */
export function requireBundle(): void {
  if (!existsSync(MAIN) || !existsSync(POST)) {
    throw new Error('dist/main.mjs or dist/post.mjs is missing: run `npm run build` first');
  }
}

interface ActionYml {
  inputs: Record<string, { default?: string }>;
}

/** The runner sets every declared input, with action.yml's default when the workflow gives none. */
function inputVariables(inputs: Record<string, string>): Record<string, string> {
  const declared = (parse(readFileSync(join(repoRoot, 'action.yml'), 'utf8')) as ActionYml).inputs;
  const variables: Record<string, string> = {};
  for (const [name, spec] of Object.entries(declared)) {
    variables[`INPUT_${name.toUpperCase()}`] = spec.default ?? '';
  }
  for (const [name, value] of Object.entries(inputs)) {
    if (!(name in declared)) throw new Error(`action.yml declares no input "${name}"`);
    variables[`INPUT_${name.toUpperCase()}`] = value;
  }
  return variables;
}

/** Parses GITHUB_OUTPUT / GITHUB_STATE: `name<<delimiter\nvalue\ndelimiter\n`; the last wins. */
export function parseFileCommands(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!match) continue;
    const [, name, delimiter] = match as unknown as [string, string, string];
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    values[name] = value.join('\n');
  }
  return values;
}

export interface ActionResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  state: Record<string, string>;
  summary: string;
  /** From spawn to exit. */
  ms: number;
}

export interface RunningAction {
  child: ChildProcess;
  /** Resolves when stdout has matched `pattern` (within `timeoutMs`), with the output so far. */
  waitForStdout(pattern: RegExp, timeoutMs?: number): Promise<string>;
  done: Promise<ActionResult>;
  /** Time of the exit (Date.now()), once it exited. */
  exitedAt(): number | undefined;
}

export interface RunOptions {
  endpoint: string;
  inputs: Record<string, string>;
  /** Extra or replaced variables (GITHUB_*, STATE_*, …). */
  env?: Record<string, string>;
  entry?: 'main' | 'post';
  /** Kills the child after this long (a hung step fails the test instead of the run). */
  timeoutMs?: number;
}

export interface Workspace {
  dir: string;
  env: Record<string, string>;
  close(): void;
}

/** A runner's temporary files and the GITHUB_* variables of a push to org/app. */
export function workspace(overrides: Record<string, string> = {}): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'));
  const eventPath = join(dir, 'event.json');
  writeFileSync(eventPath, JSON.stringify({ before: '0'.repeat(40) }));
  const env = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STATE: join(dir, 'state'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'org/app',
    GITHUB_SHA: 'a'.repeat(40),
    GITHUB_REF: 'refs/heads/main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_RUN_ID: '1234',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    ...overrides,
  };
  return { dir, env, close: () => rmSync(dir, { recursive: true, force: true }) };
}

export function startAction(ws: Workspace, options: RunOptions): RunningAction {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: ws.dir,
    AWS_ENDPOINT_URL: options.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDLOCALTEST',
    AWS_SECRET_ACCESS_KEY: 'local-test-secret',
    ...ws.env,
    ...inputVariables(options.inputs),
    ...options.env,
  };
  // Each step gets its own output, state and summary files.
  for (const file of ['output', 'state', 'summary']) writeFileSync(join(ws.dir, file), '');
  const started = Date.now();
  const child = spawn(process.execPath, [options.entry === 'post' ? POST : MAIN], {
    cwd: ws.env.GITHUB_WORKSPACE ?? ws.dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exitedAt: number | undefined;
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const done = new Promise<ActionResult>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedAt = Date.now();
      clearTimeout(timer);
      for (const wake of waiters) wake();
      const read = (name: string) => readFileSync(join(ws.dir, name), 'utf8');
      resolve({
        code,
        signal,
        stdout,
        stderr,
        outputs: parseFileCommands(read('output')),
        state: parseFileCommands(read('state')),
        summary: read('summary'),
        ms: exitedAt - started,
      });
    });
  });
  const waitForStdout = (pattern: RegExp, timeoutMs = 20_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        if (pattern.test(stdout)) {
          cleanup();
          resolve(stdout);
        } else if (exitedAt !== undefined) {
          cleanup();
          reject(new Error(`the Action exited before printing ${pattern}:\n${stdout}\n${stderr}`));
        }
      };
      const deadline = setTimeout(() => {
        cleanup();
        reject(new Error(`${pattern} not printed within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(deadline);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { child, waitForStdout, done, exitedAt: () => exitedAt };
}

export function runAction(ws: Workspace, options: RunOptions): Promise<ActionResult> {
  return startAction(ws, options).done;
}

/** The text the job log shows between `::group::<title>` and its `::endgroup::`. */
export function groupText(stdout: string, title: string): string {
  const start = stdout.indexOf(`::group::${title}\n`);
  if (start < 0) return '';
  const end = stdout.indexOf('::endgroup::', start);
  return stdout.slice(start, end < 0 ? undefined : end);
}

/** The API calls the Action counted (its debug line), by operation. */
export function apiCalls(stdout: string): Record<string, number> {
  const line = /::debug::CodeBuild API calls: (.*)/.exec(stdout)?.[1] ?? '';
  const calls: Record<string, number> = {};
  for (const part of line.split(', ').filter(Boolean)) {
    const [op, n] = part.split(' ');
    calls[op!] = Number(n);
  }
  return calls;
}
