import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../cli/demo.js';
import { isolatedGitEnv } from '../support/git-server.js';

function capture(signal?: AbortSignal) {
  let out = '';
  let err = '';
  return {
    io: {
      stdout: {
        write: (text: string) => {
          out += text;
        },
      },
      stderr: {
        write: (text: string) => {
          err += text;
        },
      },
      env: { ...process.env },
      cwd: process.cwd(),
      ...(signal ? { signal } : {}),
    },
    out: () => out,
    err: () => err,
  };
}

/** Waits (bounded) until `pattern` shows in `text()`. */
async function until(text: () => string, pattern: RegExp, ms = 30_000): Promise<RegExpExecArray> {
  const end = Date.now() + ms;
  for (;;) {
    const match = pattern.exec(text());
    if (match) return match;
    if (Date.now() > end) throw new Error(`no ${pattern} within ${ms} ms in:\n${text()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('codebuild-run demo', () => {
  it('runs a push through the server and the local CodeBuild and shows the timeline, exit 0', async () => {
    const run = capture();
    const code = await runDemo([], run.io);
    const out = run.out();
    expect(run.err()).toBe('');
    expect(code).toBe(0);
    const order = [
      /repository +demo\/app: commit [0-9a-f]{7} "Add a buildspec" on main, served at http:\/\/127\.0\.0\.1:\d+\/demo\/app\.git/,
      /webhook +POST \/webhooks\/github \(push of [0-9a-f]{7}, \d+ bytes, signed\) -> 202 accepted: project demo/,
      /build +started demo:[0-9a-f-]{36}/,
      /status +pending +codebuild-run\/demo +"build queued: demo" +http:\/\/127\.0\.0\.1:\d+\/_local\/builds\/demo%3A/,
      /log +Hello from the pushed commit\./,
      /status +success +codebuild-run\/demo +"BUILD succeeded[^"]*" +http:\/\/127\.0\.0\.1:\d+\/_local\/builds\/demo%3A[0-9a-f-]{36}\/log/,
      /Done in \d+\.\d s/,
    ];
    let from = 0;
    for (const pattern of order) {
      const at = out.slice(from).search(pattern);
      expect(at, `${pattern} after offset ${from} in:\n${out}`).toBeGreaterThanOrEqual(0);
      from += at;
    }
    // The build checked out the pushed commit, the one the timeline names.
    const sha = /push of ([0-9a-f]{7})/.exec(out)![1];
    expect(out).toMatch(new RegExp(`log +Building ${sha}[0-9a-f]{33} of http://127\\.0\\.0\\.1`));
    // It cleans up after itself.
    const dir = /log: (\S+)\/server\.log/.exec(out)![1]!;
    expect(existsSync(dir)).toBe(false);
  });

  it('--keep delivers each further push to the work tree, until stopped', async () => {
    const stop = new AbortController();
    const run = capture(stop.signal);
    const finished = runDemo(['--keep'], run.io);
    try {
      const work = (await until(run.out, /work tree +(\S+)/))[1]!;
      const env = isolatedGitEnv();
      execFileSync('git', ['-C', work, 'commit', '--quiet', '--allow-empty', '-m', 'Try again'], {
        env,
      });
      execFileSync('git', ['-C', work, 'push', '--quiet'], { env });
      const second = execFileSync('git', ['-C', work, 'rev-parse', '--short=7', 'HEAD'], { env })
        .toString()
        .trim();
      await until(run.out, new RegExp(`push of ${second}, \\d+ bytes, signed\\) -> 202 accepted`));
      await until(run.out, /status +success[\s\S]*status +success/);
    } finally {
      stop.abort();
    }
    expect(await finished).toBe(0);
    expect(run.err()).toBe('');
  });

  it('answers --help and refuses unknown options', async () => {
    const help = capture();
    expect(await runDemo(['--help'], help.io)).toBe(0);
    expect(help.out()).toContain('Usage: codebuild-run demo');
    const bad = capture();
    expect(await runDemo(['--nope'], bad.io)).toBe(2);
    expect(bad.err()).toContain('--nope');
  });
});
