import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fixtures.js';

const script = join(repoRoot, 'scripts', 'action-docs.mjs');
const dir = mkdtempSync(join(tmpdir(), 'action-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) =>
  spawnSync(process.execPath, [script, ...args], { cwd: repoRoot, encoding: 'utf8' });

describe('scripts/action-docs.mjs', () => {
  it("finds docs/action.md's tables in step with action.yml", () => {
    const result = run('--check');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('fails --check on a stale table, and rewrites it from action.yml', () => {
    const doc = join(dir, 'action.md');
    copyFileSync(join(repoRoot, 'docs', 'action.md'), doc);
    const fresh = readFileSync(doc, 'utf8');
    const edited = fresh.replace(/(\| `wait` +\| no +\| `true` +\| )[^|\n]*/, '$1old ');
    expect(edited).not.toBe(fresh);
    writeFileSync(doc, edited);
    const stale = run('--check', '--doc', doc);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain('run `node scripts/action-docs.mjs`');
    execFileSync(process.execPath, [script, '--doc', doc]);
    expect(readFileSync(doc, 'utf8')).toBe(fresh);
    expect(run('--check', '--doc', doc).status).toBe(0);
  });

  it('has a row for every input and output of action.yml', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'action.md'), 'utf8');
    const yml = readFileSync(join(repoRoot, 'action.yml'), 'utf8');
    const names = [...yml.matchAll(/^ {2}([a-z-]+):$/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(20);
    for (const name of names) expect(doc).toMatch(new RegExp(`\\| \`${name}\` +\\|`));
  });
});
