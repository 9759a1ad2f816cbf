/**
 * The local CodeBuild as a real child process (`node --import tsx cli/local-serve-entry.ts`), and
 * AWS SDK clients pointed at it. End-to-end tests use it as they would use AWS:
 *
 *   const local = await startLocalCodeBuild({ projects: { projects: [{ name: 'demo' }] } });
 *   const build = await local.codebuild().send(new StartBuildCommand({ … }));
 *   …
 *   await local.close();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { BatchGetBuildsCommand, type Build, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { repoRoot } from './fixtures.js';

export interface LocalCodeBuildOptions {
  /** Reuse a data directory (e.g. one left by an earlier process); default a fresh temporary one. */
  dataDir?: string;
  /** Written to a file and passed as --projects: projects, parameters, secrets. */
  projects?: object;
  /** Passed as --fault, e.g. `StartBuild=throttle:2`. */
  faults?: string[];
  /** Any further arguments for `local serve`. */
  args?: string[];
  /** How long to wait for the ready line. Default 20 s. */
  readyTimeoutMs?: number;
}

/** Client settings: the endpoint, dummy credentials, and no SDK retries unless asked. */
export interface ClientSettings {
  maxAttempts?: number;
}

export interface LocalCodeBuildProcess {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The process's stderr so far (its pino log), for failure messages. */
  output(): string;
  codebuild(settings?: ClientSettings): CodeBuildClient;
  logs(settings?: ClientSettings): CloudWatchLogsClient;
  secrets(settings?: ClientSettings): SecretsManagerClient;
  /** Replaces the faults at run time (DELETE, then POST /_local/faults); `[]` clears them. */
  setFaults(specs: string[]): Promise<void>;
  /** SIGTERM, and waits for the process to exit. */
  stop(): Promise<void>;
  /** SIGKILL: the process dies mid-whatever, as in a crash. */
  kill9(): Promise<void>;
  /** Starts the endpoint again on the same data directory and port. */
  restart(): Promise<void>;
  /** Stops the process (if running) and removes a data directory this helper created. */
  close(): Promise<void>;
}

const READY = /local CodeBuild listening on (http:\/\/127\.0\.0\.1:(\d+))/;

interface Started {
  child: ChildProcess;
  url: string;
  port: number;
  exited: Promise<void>;
}

function launch(args: string[], stderr: { text: string }, timeoutMs: number): Promise<Started> {
  const { NODE_OPTIONS: _, ...env } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/local-serve-entry.ts', ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.text += chunk;
  });
  return new Promise<Started>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `local CodeBuild not ready after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr.text}`,
        ),
      );
    }, timeoutMs);
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = READY.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, port: Number(match[2]), exited });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `local CodeBuild exited (${signal ?? code}) before it was ready\nstderr: ${stderr.text}`,
        ),
      );
    });
  });
}

export async function startLocalCodeBuild(
  options: LocalCodeBuildOptions = {},
): Promise<LocalCodeBuildProcess> {
  const ownDir =
    options.dataDir === undefined ? mkdtempSync(join(tmpdir(), 'local-codebuild-')) : undefined;
  const dataDir = options.dataDir ?? join(ownDir!, 'data');
  const args = ['--data-dir', dataDir, '--log-level', 'warn', ...(options.args ?? [])];
  if (options.projects) {
    const file = join(
      ownDir ?? mkdtempSync(join(tmpdir(), 'local-codebuild-projects-')),
      'projects.json',
    );
    writeFileSync(file, JSON.stringify(options.projects));
    args.push('--projects', file);
  }
  for (const fault of options.faults ?? []) args.push('--fault', fault);
  const timeoutMs = options.readyTimeoutMs ?? 20_000;
  const stderr = { text: '' };
  let current: Started | undefined = await launch([...args, '--port', '0'], stderr, timeoutMs);
  const { url, port } = current;

  const clientConfig = (settings: ClientSettings = {}) => ({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: settings.maxAttempts ?? 1,
  });
  const end = async (signal: NodeJS.Signals) => {
    if (!current) return;
    const { child, exited } = current;
    current = undefined;
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };

  return {
    url,
    port,
    dataDir,
    output: () => stderr.text,
    codebuild: (settings) => new CodeBuildClient(clientConfig(settings)),
    logs: (settings) => new CloudWatchLogsClient(clientConfig(settings)),
    secrets: (settings) => new SecretsManagerClient(clientConfig(settings)),
    async setFaults(specs) {
      await fetch(`${url}/_local/faults`, { method: 'DELETE' });
      if (specs.length === 0) return;
      const response = await fetch(`${url}/_local/faults`, {
        method: 'POST',
        body: JSON.stringify({ faults: specs }),
      });
      if (!response.ok) throw new Error(`setting faults failed: ${await response.text()}`);
    },
    stop: () => end('SIGTERM'),
    kill9: () => end('SIGKILL'),
    async restart() {
      await end('SIGTERM');
      current = await launch([...args, '--port', String(port)], stderr, timeoutMs);
    },
    async close() {
      await end('SIGTERM');
      if (ownDir) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}

/**
 * Polls BatchGetBuilds until `until(build)` holds, every `intervalMs`, failing after `timeoutMs`
 * with the last state seen.
 */
export async function waitForBuild(
  client: CodeBuildClient,
  id: string,
  until: (build: Build) => boolean,
  { timeoutMs = 20_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<Build> {
  const deadline = Date.now() + timeoutMs;
  let last: Build | undefined;
  while (Date.now() < deadline) {
    const { builds } = await client.send(new BatchGetBuildsCommand({ ids: [id] }));
    last = builds?.[0];
    if (last && until(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `build ${id} did not reach the expected state in ${timeoutMs} ms; last seen: ${last?.currentPhase} ${last?.buildStatus}`,
  );
}

export const isComplete = (build: Build) => build.buildComplete === true;

/** Polls `check` until it holds, failing after `timeoutMs` with `what` in the message. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  { timeoutMs = 20_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`${what}: not seen within ${timeoutMs} ms`);
}
