import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fixtures.js';

let project: string;
const children: ChildProcess[] = [];

beforeEach(async () => {
  project = await mkdtemp(join(tmpdir(), 'cbr-local-run-process-'));
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(project, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves once stdout holds `text`; rejects after `timeoutMs`. */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  exit: Promise<{ code: number | null; ms: number }>;
}

function start(args: string[]): Started {
  const startedAt = Date.now();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/local/local-run-entry.ts', ...args],
    {
      cwd: repoRoot,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const check of waiters) check();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exit = new Promise<{ code: number | null; ms: number }>((resolve) => {
    child.once('exit', (code) => resolve({ code, ms: Date.now() - startedAt }));
  });
  return {
    child,
    exit,
    output: () => ({ stdout, stderr }),
    waitFor: (text, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no "${text}" in:\n${stdout}${stderr}`)),
          timeoutMs,
        );
        const check = () => {
          if (stdout.includes(text)) {
            clearTimeout(timer);
            resolve();
          }
        };
        waiters.push(check);
        check();
      }),
  };
}

describe('local run as a process', () => {
  it('exits 0 when the build succeeds and 1 when it fails', async () => {
    await writeFile(
      join(project, 'ok.yml'),
      'version: 0.2\nphases:\n  build:\n    commands: [echo fine]\n',
    );
    await writeFile(
      join(project, 'bad.yml'),
      'version: 0.2\nphases:\n  build:\n    commands: ["false"]\n',
    );
    const ok = start(['--buildspec', join(project, 'ok.yml'), '--src', project]);
    const bad = start(['--buildspec', join(project, 'bad.yml'), '--src', project]);
    expect((await ok.exit).code).toBe(0);
    expect(ok.output().stdout).toMatch(/\nBuild local:\S+ SUCCEEDED in/);
    expect((await bad.exit).code).toBe(1);
    expect(bad.output().stdout).toMatch(/\nBuild local:\S+ FAILED in/);
  });

  it('stops the build on Ctrl-C (SIGINT): STOPPED, the build processes end, exit 1', async () => {
    const pidFile = join(project, 'background.pid');
    await writeFile(
      join(project, 'buildspec.yml'),
      [
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands:',
        '      - sleep 30 & echo $! > "$PID_FILE"',
        '      - sleep 30',
      ].join('\n'),
    );
    const run = start([
      '--buildspec',
      join(project, 'buildspec.yml'),
      '--src',
      project,
      '--env',
      `PID_FILE=${pidFile}`,
    ]);
    await run.waitFor('Running command sleep 30\n', 15_000);
    const interruptedAt = Date.now();
    run.child.kill('SIGINT');
    const { code } = await run.exit;
    expect(Date.now() - interruptedAt).toBeLessThan(5000);
    expect(code).toBe(1);
    const { stdout, stderr } = run.output();
    expect(stderr).toContain('Stopping the build');
    expect(stdout).toContain('Phase complete: BUILD State: STOPPED');
    expect(stdout).toMatch(/\nBuild local:\S+ STOPPED in/);
    const background = Number(await readFile(pidFile, 'utf8'));
    const stat = await readFile(`/proc/${background}/stat`, 'utf8').catch(() => null);
    // Gone, or a zombie waiting for init to reap it: either way it no longer runs.
    expect(stat === null || /^\d+ \(.*\) Z /.test(stat)).toBe(true);
  });
});
