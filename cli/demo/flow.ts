/**
 * The demo's steps and how they read: a timeline of lines with the time since the start, the
 * signed push delivery, and following one build (start, log, final state) to its end.
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { StartedServer } from '../../server/main.js';
import { systemClock } from '../../src/deps.js';
import { type DemoRepo, pushPayload } from './repo.js';
import type { ReceivedStatus } from './status-api.js';

const POLL_MS = 250;

export class Timeline {
  readonly #started = performance.now();

  constructor(private readonly out: { write(text: string): unknown }) {}

  elapsed(): string {
    return `${((performance.now() - this.#started) / 1000).toFixed(1)} s`;
  }

  line(kind: string, text: string): void {
    const at = `${((performance.now() - this.#started) / 1000).toFixed(1)}s`;
    this.out.write(`${at.padStart(7)}  ${kind.padEnd(11)} ${text}\n`);
  }

  status(status: ReceivedStatus): void {
    const link = status.targetUrl ? `  ${status.targetUrl}` : '';
    this.line(
      'status',
      `${status.state.padEnd(8)} ${status.context}  "${status.description}"${link}`,
    );
  }
}

export interface DeliveryAnswer {
  status: number;
  builds: Array<{ id: string; project: string; context: string }>;
}

/** Sends GitHub's push webhook for `before..after`, signed over its exact bytes. */
export async function sendPush(options: {
  serverUrl: string;
  hostId: string;
  secret: string;
  payload: { repo: DemoRepo; cloneUrl: string; before: string | null; after: string };
  timeline: Timeline;
}): Promise<DeliveryAnswer> {
  const body = Buffer.from(JSON.stringify(pushPayload(options.payload)));
  const signature = createHmac('sha256', options.secret).update(body).digest('hex');
  const path = `/webhooks/${options.hostId}`;
  const response = await fetch(`${options.serverUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/codebuild-run-demo',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': `sha256=${signature}`,
    },
    body,
  });
  const answer = (await response.json()) as {
    status?: string;
    reason?: string;
    builds?: DeliveryAnswer['builds'];
    error?: { message: string };
  };
  const builds = answer.builds ?? [];
  const what =
    builds.length > 0
      ? `${answer.status}: ${builds.map((b) => `project ${b.project} (status context ${b.context})`).join(', ')}`
      : (answer.error?.message ?? `${answer.status}: ${answer.reason ?? ''}`);
  options.timeline.line(
    'webhook',
    `POST ${path} (push of ${options.payload.after.slice(0, 7)}, ${body.length} bytes, signed) -> ${response.status} ${what}`,
  );
  return { status: response.status, builds };
}

export class DemoTimeout extends Error {}

/** The clone step's shell is long and says nothing new: shown as one line, its output kept. */
const CLONE_STEP = /Running command # codebuild-run:/;
const CLONE_STEP_OUTPUT = /^codebuild-run: /;
const EMPTY_CONTEXT = /Phase context status code: +Message: *$/;
const MAX_FOLDED_LINES = 300;

/** Turns the build's log into timeline lines: the clone step folded, empty contexts dropped. */
export class LogFolder {
  #folding = 0;

  /** The line to show for `line`, or null to show nothing. */
  show(line: string): string | null {
    if (this.#folding > 0) {
      if (CLONE_STEP_OUTPUT.test(line) || line.startsWith('[Container]')) {
        this.#folding = 0;
      } else {
        this.#folding = this.#folding >= MAX_FOLDED_LINES ? 0 : this.#folding + 1;
        return null;
      }
    }
    if (CLONE_STEP.test(line)) {
      this.#folding = 1;
      return line.replace(
        /Running command .*/,
        "Running codebuild-run's clone step (its shell text is in the build's log)",
      );
    }
    return EMPTY_CONTEXT.test(line) ? null : line;
  }
}

/**
 * One planned build, followed to its end: `announce()` prints "build started" once the job has
 * a build id (it is synchronous, so a status arriving can call it first), `follow()` prints the
 * log as it grows and resolves with the final state.
 */
export class BuildFollower {
  #buildId: string | null = null;
  #printed = 0;
  readonly #folder = new LogFolder();

  constructor(
    private readonly server: StartedServer,
    private readonly jobId: string,
    private readonly timeline: Timeline,
  ) {}

  announce(): void {
    if (this.#buildId !== null) return;
    const buildId = this.server.store.getJob(this.jobId)?.buildId ?? null;
    if (buildId === null) return;
    this.#buildId = buildId;
    this.timeline.line('build', `started ${buildId}`);
  }

  async #printLog(): Promise<void> {
    if (this.#buildId === null || this.server.localCodeBuildUrl === null) return;
    const id = encodeURIComponent(this.#buildId);
    const response = await fetch(`${this.server.localCodeBuildUrl}/_local/builds/${id}/log`);
    if (!response.ok) return;
    const lines = (await response.text()).split('\n').filter((line) => line.trim() !== '');
    for (const line of lines.slice(this.#printed)) {
      const shown = this.#folder.show(line);
      if (shown !== null) this.timeline.line('log', shown);
    }
    this.#printed = Math.max(this.#printed, lines.length);
  }

  /** Throws DemoTimeout naming the stage when `deadline` aborts first. */
  async follow(deadline: AbortSignal): Promise<string> {
    try {
      for (;;) {
        const job = this.server.store.getJob(this.jobId);
        if (job === null) throw new Error(`job ${this.jobId} is not in the store`);
        this.announce();
        await this.#printLog();
        if (job.step === 'done') return job.finalState ?? 'error';
        await systemClock.sleep(POLL_MS, deadline);
      }
    } catch (error) {
      if (!deadline.aborted) throw error;
      const step = this.server.store.getJob(this.jobId)?.step;
      const stage =
        this.#buildId === null
          ? 'waiting for the build to start'
          : step === 'post-final'
            ? 'waiting for the final status to be posted'
            : 'waiting for the build to end';
      throw new DemoTimeout(
        `gave up ${stage} (${this.timeline.elapsed()} in); the server's log says why`,
      );
    }
  }
}

/** Calls `check` every second until SIGINT, SIGTERM or `signal`; checks never overlap. */
export async function untilStopped(
  signal: AbortSignal | undefined,
  check: (stopped: AbortSignal) => Promise<void>,
  report: (message: string) => void,
): Promise<void> {
  const stopped = new AbortController();
  const stop = () => stopped.abort(new Error('stopped'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop();
  try {
    while (!stopped.signal.aborted) {
      try {
        await check(stopped.signal);
      } catch (error) {
        if (stopped.signal.aborted) break;
        report((error as Error).message);
      }
      await systemClock.sleep(1000, stopped.signal).catch(() => {});
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    signal?.removeEventListener('abort', stop);
  }
}
