import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../support/fixtures.js';
import { type ServeProcess, startServe } from './serve.js';

const CONFIG = `hosts:
  gh: { kind: github, webhookSecret: { env: GH_SECRET }, apiToken: { env: GH_TOKEN } }
rules:
  - { repos: ["acme/*"], project: app-ci }
`;
const ENV = { GH_SECRET: 'lock-test-secret', GH_TOKEN: 'lock-test-token' };

let first: ServeProcess;

beforeAll(async () => {
  first = await startServe({ config: CONFIG, env: ENV });
}, 60_000);

afterAll(async () => {
  await first?.close();
});

describe('the data directory', () => {
  it('refuses a second server on it, naming the one that holds it, and exits 2', async () => {
    const { NODE_OPTIONS: _, ...inherited } = process.env;
    const second = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'server/serve-entry.ts',
        '--config',
        join(first.dataDir, '..', 'config.yml'),
        '--port',
        '0',
        '--data-dir',
        first.dataDir,
      ],
      { cwd: repoRoot, env: { ...inherited, ...ENV }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    second.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const code = await new Promise((resolve) => second.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/is in use by another codebuild-run server \(pid \d+\)/);
    // The first server still answers.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
  });
});
