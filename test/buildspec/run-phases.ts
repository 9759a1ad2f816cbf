/**
 * Runs a buildspec's phases the way CodeBuild does, for the clone-step tests: every command of
 * every phase in ONE shell process (bash or dash), each command sourced from its own file so a
 * multi-line command reports its last status; a failing command ends its list; `finally` runs
 * after `commands` and also stops at its first failure; after a failed INSTALL or PRE_BUILD the
 * build skips to the end unless the phase says `on-failure: CONTINUE`; a failed BUILD still runs
 * POST_BUILD; `on-failure: ABORT` skips the rest. RETRY is treated as no retry. Override variables
 * are set in the shell's environment, SECRETS_MANAGER ones resolved from `secrets`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type EnvironmentVariable,
  PHASE_NAMES,
  parseBuildspec,
} from '../../src/buildspec/index.js';

export type Shell = 'bash' | 'dash';

export interface BuildRun {
  /** FAILED when any phase failed, as CodeBuild reports it. */
  status: 'SUCCEEDED' | 'FAILED';
  /** Phases that ran, with their outcome. */
  phases: Record<string, 'SUCCEEDED' | 'FAILED'>;
  stdout: string;
  stderr: string;
  srcDir: string;
  /** `$-` and the working directory of the shell before the first command. */
  initialOptions: string;
  initialCwd: string;
}

export interface RunOptions {
  shell: Shell;
  environmentVariables: readonly EnvironmentVariable[];
  /** Secrets Manager reference → value. */
  secrets?: Record<string, string>;
  /** Extra variables set in the shell's environment (PATH and friends). */
  env?: Record<string, string>;
  timeoutMs?: number;
}

const quote = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

/** Runs `buildspecText` in a fresh build directory under `workRoot`; returns what CodeBuild would report. */
export async function runBuildspec(
  buildspecText: string,
  workRoot: string,
  options: RunOptions,
): Promise<BuildRun> {
  const { spec } = parseBuildspec(buildspecText, 'buildspec under test');
  const work = mkdtempSync(join(workRoot, `build-${options.shell}-`));
  const srcDir = join(work, 'src');
  mkdirSync(srcDir);
  const statusFile = join(work, 'phases');
  let counter = 0;
  const source = (command: string, flag: string) => {
    const file = join(work, `command-${counter++}.sh`);
    writeFileSync(file, command);
    return `if [ "$${flag}" = 1 ]; then . ${quote(file)} || ${flag}=0; fi`;
  };
  const before = join(work, 'before');
  const lines = [`printf '%s\\n%s\\n' "$-" "$(pwd)" > ${quote(before)}`];
  for (const name of PHASE_NAMES) lines.push(`__cb_run_${name}=1`);
  PHASE_NAMES.forEach((name, index) => {
    const phase = spec.phases?.[name];
    if (!phase) return;
    const onFailure = phase['on-failure'] ?? '';
    const later = PHASE_NAMES.slice(index + 1);
    const skipped =
      onFailure === 'CONTINUE'
        ? []
        : onFailure === 'ABORT' || name === 'install' || name === 'pre_build'
          ? later
          : [];
    lines.push(`if [ "$__cb_run_${name}" = 1 ]; then`, '__cb_ok=1; __cb_fok=1');
    for (const command of phase.commands) lines.push(source(command, '__cb_ok'));
    for (const command of phase.finally ?? []) lines.push(source(command, '__cb_fok'));
    lines.push(
      'if [ "$__cb_ok" = 1 ] && [ "$__cb_fok" = 1 ]; then',
      `  printf '%s\\n' ${name}=SUCCEEDED >> ${quote(statusFile)}`,
      'else',
      `  printf '%s\\n' ${name}=FAILED >> ${quote(statusFile)}`,
      '  CODEBUILD_BUILD_SUCCEEDING=0; export CODEBUILD_BUILD_SUCCEEDING',
      ...later.filter((p) => skipped.includes(p)).map((p) => `  __cb_run_${p}=0`),
      'fi',
      'fi',
    );
  });
  const driver = join(work, 'driver.sh');
  writeFileSync(driver, `${lines.join('\n')}\n`);

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: work,
    LANG: 'C.UTF-8',
    GIT_CONFIG_NOSYSTEM: '1',
    CODEBUILD_SRC_DIR: srcDir,
    CODEBUILD_BUILD_ID: 'project:00000000-0000-4000-8000-000000000000',
    CODEBUILD_BUILD_SUCCEEDING: '1',
    ...options.env,
  };
  for (const variable of options.environmentVariables) {
    if (variable.type === 'SECRETS_MANAGER') {
      const value = options.secrets?.[variable.value];
      if (value === undefined) throw new Error(`no secret for reference ${variable.value}`);
      env[variable.name] = value;
    } else {
      env[variable.name] = variable.value;
    }
  }
  const { stdout, stderr } = await runProcess(options.shell, [driver], {
    cwd: srcDir,
    env,
    timeoutMs: options.timeoutMs ?? 20_000,
  });
  const phases: Record<string, 'SUCCEEDED' | 'FAILED'> = {};
  let recorded = '';
  try {
    recorded = readFileSync(statusFile, 'utf8');
  } catch {
    recorded = '';
  }
  for (const line of recorded.split('\n').filter(Boolean)) {
    const [phase, outcome] = line.split('=') as [string, 'SUCCEEDED' | 'FAILED'];
    phases[phase] = outcome;
  }
  const status = Object.values(phases).includes('FAILED') ? 'FAILED' : 'SUCCEEDED';
  const [initialOptions = '', initialCwd = ''] = readFileSync(before, 'utf8').split('\n');
  return { status, phases, stdout, stderr, srcDir, initialOptions, initialCwd };
}

/** Runs a process to its end (killed after `timeoutMs`), collecting its output. */
export function runProcess(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env: Record<string, string>; timeoutMs: number; input?: string },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends the shell and everything it started.
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(
        new Error(`${command} did not finish in ${options.timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/**
 * A temporary directory removed by the returned function; on tmpfs when the machine has one, as
 * each build writes a fresh `.git` and a busy disk makes that the slowest part of these tests.
 */
export function tempRoot(prefix: string): { dir: string; remove: () => void } {
  let dir: string;
  try {
    dir = mkdtempSync(join('/dev/shm', prefix));
  } catch {
    dir = mkdtempSync(join(tmpdir(), prefix));
  }
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
