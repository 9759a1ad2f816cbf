/**
 * The real webhook server as a child process (`node --import tsx server/serve-entry.ts`), and
 * signed deliveries for each host built from the shared real payloads, pointed at a local git
 * server's repository and commit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureBytes, repoRoot, sharedFixtures } from '../support/fixtures.js';
import type { RecordedRequest } from '../support/http-recorder.js';

const READY = /listening on (http:\/\/127\.0\.0\.1:\d+)/;

export interface ServeProcess {
  readonly url: string;
  readonly dataDir: string;
  /** Everything the process wrote to stderr (its JSON log), across restarts. */
  log(): string;
  /** Starts the server again on the same data directory, with `env` added (or without the crash variable). */
  restart(env?: Record<string, string>): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Resolves when the process has exited by itself (e.g. a crash hook); with its signal. */
  exited(): Promise<NodeJS.Signals | number | null>;
  close(): Promise<void>;
}

export async function startServe(options: {
  config: string;
  env: Record<string, string>;
  args?: string[];
  readyTimeoutMs?: number;
}): Promise<ServeProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-serve-'));
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, options.config);
  const dataDir = join(dir, 'data');
  let stderr = '';
  let child: ChildProcess | undefined;
  let exit: Promise<NodeJS.Signals | number | null> = Promise.resolve(null);
  let url = '';

  const launch = (extraEnv: Record<string, string>) =>
    new Promise<void>((resolve, reject) => {
      const { NODE_OPTIONS: _, ...inherited } = process.env;
      const env = { ...inherited, ...options.env, ...extraEnv };
      const args = ['--config', configPath, '--port', '0', '--data-dir', dataDir];
      const proc = spawn(
        process.execPath,
        ['--import', 'tsx', 'server/serve-entry.ts', ...args, ...(options.args ?? [])],
        { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = proc;
      exit = new Promise((done) => proc.once('exit', (code, signal) => done(signal ?? code)));
      proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
        stderr += chunk;
      });
      let stdout = '';
      const timeoutMs = options.readyTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`serve not ready after ${timeoutMs} ms\n${stdout}\n${stderr}`));
      }, timeoutMs);
      proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const match = READY.exec(stdout);
        if (match) {
          clearTimeout(timer);
          url = match[1]!;
          resolve();
        }
      });
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${signal ?? code}) before it was ready\n${stderr}`));
      });
    });

  const end = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return exit;
    proc.kill('SIGTERM');
    return exit;
  };

  await launch({});
  return {
    get url() {
      return url;
    },
    dataDir,
    log: () => stderr,
    async restart(env = {}) {
      await end();
      await launch({ CODEBUILD_RUN_CRASH_AT: '', ...env });
    },
    stop: async () => {
      const result = await end();
      return typeof result === 'number' ? result : null;
    },
    exited: () => exit,
    async close() {
      const proc = child;
      if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exit;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const hmacHex = (secret: string, body: Uint8Array) =>
  createHmac('sha256', secret).update(body).digest('hex');

export type HostKind = 'github' | 'gitlab' | 'bitbucket' | 'gitea';

export interface Target {
  /** `owner/name` on the git server. */
  fullName: string;
  cloneUrl: string;
  branch: string;
  sha: string;
}

export interface Delivery {
  headers: Record<string, string>;
  body: Uint8Array;
}

// biome-ignore lint/suspicious/noExplicitAny: the host's payload, edited field by field below.
function fixture(kind: HostKind): Record<string, any> {
  const bytes = fixtureBytes(join(sharedFixtures, kind, 'push.json'));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The host's real push payload, moved to `target`, signed (or carrying the token) as the host does. */
export function deliveryFor(kind: HostKind, target: Target, secret: string): Delivery {
  const web = target.cloneUrl.replace(/\.git$/, '');
  const ref = `refs/heads/${target.branch}`;
  const id = randomUUID();
  const p = fixture(kind);
  let headers: Record<string, string>;
  if (kind === 'github' || kind === 'gitea') {
    Object.assign(p, { ref, after: target.sha });
    if (p.head_commit) p.head_commit.id = target.sha;
    Object.assign(p.repository, {
      full_name: target.fullName,
      clone_url: target.cloneUrl,
      html_url: web,
    });
  } else if (kind === 'gitlab') {
    Object.assign(p, { ref, after: target.sha, checkout_sha: target.sha });
    Object.assign(p.project, {
      path_with_namespace: target.fullName,
      git_http_url: target.cloneUrl,
      web_url: web,
    });
  } else {
    const change = p.push.changes[0];
    change.new.name = target.branch;
    change.new.target.hash = target.sha;
    Object.assign(p.repository, { full_name: target.fullName });
    p.repository.links.html.href = web;
  }
  const body = new TextEncoder().encode(JSON.stringify(p));
  const json = { 'content-type': 'application/json' };
  if (kind === 'github') {
    headers = {
      ...json,
      'x-github-event': 'push',
      'x-github-delivery': id,
      'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`,
    };
  } else if (kind === 'gitea') {
    headers = {
      ...json,
      'x-gitea-event': 'push',
      'x-gitea-delivery': id,
      'x-gitea-signature': hmacHex(secret, body),
    };
  } else if (kind === 'gitlab') {
    headers = {
      ...json,
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-token': secret,
      'x-gitlab-event-uuid': id,
    };
  } else {
    headers = {
      ...json,
      'x-event-key': 'repo:push',
      'x-request-uuid': id,
      'x-hub-signature': `sha256=${hmacHex(secret, body)}`,
    };
  }
  return { headers, body };
}

export async function deliver(serveUrl: string, hostId: string, delivery: Delivery) {
  const response = await fetch(`${serveUrl}/webhooks/${hostId}`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A status as the host received it: our word for its state, and its link. */
export function statusOf(kind: HostKind, request: RecordedRequest) {
  const body = JSON.parse(request.body) as Record<string, string>;
  const words: Record<string, string> = {
    INPROGRESS: 'pending',
    SUCCESSFUL: 'success',
    FAILED: 'failure',
    failed: 'failure',
    running: 'pending',
  };
  const state = body.state ?? '';
  return {
    state: words[state] ?? state,
    link: (kind === 'bitbucket' ? body.url : body.target_url) ?? null,
    description: body.description ?? '',
  };
}

/** Polls `check` every 100 ms until it holds; fails after `timeoutMs` with `what`. */
export async function eventually(
  what: () => string,
  check: () => boolean,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
