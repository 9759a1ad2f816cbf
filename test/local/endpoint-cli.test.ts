/** `local serve`'s command line: help, refusals that name the bad input, and a clean shutdown. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runLocalServe } from '../../cli/local-serve.js';
import { waitFor } from '../support/local-codebuild.js';

const scratch = mkdtempSync(join(tmpdir(), 'local-serve-cli-'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function io(signal?: AbortSignal) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: {
      stdout: { write: (text: string) => (out.stdout += text) },
      stderr: { write: (text: string) => (out.stderr += text) },
      env: { HOME: scratch },
      ...(signal ? { signal } : {}),
    },
  };
}

describe('local serve', () => {
  it('prints its usage with --help', async () => {
    const { out, io: streams } = io();
    expect(await runLocalServe(['--help'], streams)).toBe(0);
    expect(out.stdout).toContain('AWS_ENDPOINT_URL=http://127.0.0.1:<port>');
    expect(out.stdout).toContain('--fault SPEC');
  });

  it('refuses a fault it does not know, naming it and the kinds there are', async () => {
    const { out, io: streams } = io();
    expect(await runLocalServe(['--fault', 'StartBuild=explode:1'], streams)).toBe(2);
    expect(out.stderr).toContain('unknown kind "explode"');
    expect(out.stderr).toContain('throttle:N');
  });

  it('names a projects file it cannot use', async () => {
    const file = join(scratch, 'projects.yml');
    writeFileSync(file, 'projects:\n  - name: "bad name!"\n');
    const { out, io: streams } = io();
    const code = await runLocalServe(
      ['--port', '0', '--data-dir', join(scratch, 'bad'), '--projects', file],
      streams,
    );
    expect(code).toBe(1);
    expect(out.stderr).toContain(`${file}: projects[0]: Invalid project name "bad name!"`);
  });

  it('says when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    const { out, io: streams } = io();
    try {
      const code = await runLocalServe(
        ['--port', String(port), '--data-dir', join(scratch, 'taken')],
        streams,
      );
      expect(code).toBe(1);
      expect(out.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('serves on 127.0.0.1 until told to stop, then exits 0', async () => {
    const stop = new AbortController();
    const { out, io: streams } = io(stop.signal);
    const running = runLocalServe(
      ['--port', '0', '--data-dir', join(scratch, 'serve'), '--log-level', 'error'],
      streams,
    );
    await waitFor('the ready line', async () => out.stdout.includes('listening on'), {
      timeoutMs: 10_000,
    });
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out.stdout)![1]!;
    const health = await fetch(`${url}/_local/health`);
    expect(await health.json()).toEqual({ status: 'ok' });
    stop.abort();
    expect(await running).toBe(0);
    await expect(fetch(`${url}/_local/health`)).rejects.toThrow();
  });
});
