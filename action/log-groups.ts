/**
 * A build's log in the job: one collapsible group per phase, split on the CodeBuild agent's own
 * lines (`[Container] … Entering phase BUILD`, `Phase is DOWNLOAD_SOURCE`, `Phase complete: …`).
 *
 * The build's output is data, never workflow commands: a build printing `::set-output …` or
 * `::add-mask::` must not reach the runner as a command. Every batch of lines is written between
 * `::stop-commands::<token>` and `::<token>::`, the runner's documented way to pass text through
 * untouched; the token is random per run and never part of the build's log, so it cannot be
 * guessed by the build.
 */
import { randomBytes } from 'node:crypto';
import type { LogLine } from '../src/codebuild/index.js';

const ENTERING = /\bEntering phase ([A-Z_]+)\b/;
const PHASE_IS = /\bPhase is ([A-Z_]+)\b/;
const COMPLETE = /\bPhase complete: ([A-Z_]+) State: ([A-Z_]+)\b/;
const CONTEXT = /\bPhase context status code:/;
/** Only the agent's own lines (`[Container] <date> <time> …`) move between phases. */
const AGENT_LINE = /^\[Container\] \d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}(\.\d+)? /;
/** Lines kept per phase for the excerpt shown when the build fails. */
const KEPT_LINES = 40;

export class PhaseLogRenderer {
  readonly #write: (text: string) => void;
  readonly #token: string;
  #phase: string | null = null;
  /** The title of the open group, or null. */
  #group: string | null = null;
  #completed: string | null = null;
  readonly #recent = new Map<string, string[]>();
  readonly #status = new Map<string, string>();
  #lineCount = 0;

  readonly #title: string | undefined;

  /** With `title`, every line goes into one group of that title (a batch member's log). */
  constructor(write: (text: string) => void, options: { title?: string; token?: string } = {}) {
    this.#write = write;
    this.#token = options.token ?? randomBytes(16).toString('hex');
    this.#title = options.title;
  }

  /** Lines written so far. */
  get lineCount(): number {
    return this.#lineCount;
  }

  /** The phase status each "Phase complete" line reported. */
  phaseStatus(phase: string): string | undefined {
    return this.#status.get(phase);
  }

  /** The last lines of a phase (up to 40), for an excerpt outside the collapsed groups. */
  lastLines(phase: string): string[] {
    return [...(this.#recent.get(phase) ?? [])];
  }

  push(lines: readonly LogLine[]): void {
    if (lines.length === 0) return;
    let out = '';
    let stopped = false;
    const stop = () => {
      if (!stopped) out += `::stop-commands::${this.#token}\n`;
      stopped = true;
    };
    const resume = () => {
      if (stopped) out += `::${this.#token}::\n`;
      stopped = false;
    };
    for (const line of lines) {
      for (const text of line.message.replace(/\r/g, '').split('\n')) {
        const phase = this.#phaseOf(text);
        this.#phase = phase;
        const group = this.#title ?? phase;
        if (group !== this.#group) {
          resume();
          if (this.#group !== null) out += '::endgroup::\n';
          out += `::group::${group}\n`;
          this.#group = group;
        }
        stop();
        out += `${text}\n`;
        this.#keep(phase, text);
        this.#lineCount++;
      }
    }
    resume();
    this.#write(out);
  }

  /** Writes `lines` outside any group, as data: a failure's excerpt after the groups. */
  writeExcerpt(heading: string, lines: readonly string[]): void {
    this.close();
    if (lines.length === 0) return;
    const body = lines.map((line) => `${line}\n`).join('');
    this.#write(`${heading}\n::stop-commands::${this.#token}\n${body}::${this.#token}::\n`);
  }

  /** Ends the open group: call before writing anything else after the log. */
  close(): void {
    if (this.#group !== null) this.#write('::endgroup::\n');
    this.#group = null;
  }

  /** The phase a line belongs to, updating what is known of phase transitions. */
  #phaseOf(text: string): string {
    const current = this.#phase ?? 'PROVISIONING';
    const agent = AGENT_LINE.test(text);
    const entering = agent ? (ENTERING.exec(text) ?? PHASE_IS.exec(text)) : null;
    if (entering) {
      this.#completed = null;
      return entering[1]!;
    }
    const complete = agent ? COMPLETE.exec(text) : null;
    if (complete) {
      const [, phase, status] = complete as unknown as [string, string, string];
      this.#status.set(phase, status);
      this.#completed = phase;
      // A phase CodeBuild completes without having announced it (UPLOAD_ARTIFACTS) opens here.
      return phase;
    }
    if (agent && CONTEXT.test(text)) return current;
    // POST_BUILD ends without an "Entering phase UPLOAD_ARTIFACTS": what follows is the upload.
    if (this.#completed === 'POST_BUILD' && current === 'POST_BUILD') {
      this.#completed = null;
      return 'UPLOAD_ARTIFACTS';
    }
    return current;
  }

  #keep(phase: string, text: string): void {
    let recent = this.#recent.get(phase);
    if (!recent) {
      recent = [];
      this.#recent.set(phase, recent);
    }
    recent.push(text);
    if (recent.length > KEPT_LINES) recent.shift();
  }
}
