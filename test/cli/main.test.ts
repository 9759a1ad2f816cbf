import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fixtures.js';

const run = promisify(execFile);

async function cli(...args: string[]) {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'cli/entry.ts', ...args],
      { cwd: repoRoot },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('codebuild-run', () => {
  it('lists its commands on --help and exits 0', async () => {
    const result = await cli('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /Commands:[\s\S]*demo[\s\S]*serve[\s\S]*explain[\s\S]*local run[\s\S]*local serve/,
    );
  });

  it('names an unknown command, suggests the close ones and exits 2', async () => {
    const result = await cli('local');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'unknown command "local"; did you mean "local run" or "local serve"?',
    );
  });

  it('passes the rest of the arguments to the command', async () => {
    const result = await cli('local', 'run', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: codebuild-run local run/);
  });
});
