/**
 * The one shell every command of a build runs in (buildspec 0.2: `export` in INSTALL is seen in
 * BUILD). Commands are written to files and sourced, one at a time, by a long-lived shell that
 * reads its script from a pipe; each is followed by an epilogue that reports the exit status on
 * fd 3 and prints a sync token on stdout, so output and status never interleave and the
 * command's last output line is logged before its status. stdin of commands is /dev/null, so a
 * command that reads stdin cannot eat the script.
 *
 * The shell leads its own process group (spawned detached): stopping or timing out the build
 * ends the whole group, SIGTERM then SIGKILL after a grace period.
 *
 * If a command ends the shell (`exit 3`, `set -e`), the status of the shell is the command's, and
 * the next command gets a new shell restored from the state saved after the last command that
 * completed (exported variables and the working directory), as CodeBuild keeps them in files.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LineSplitter, within } from './lines.js';
import { endGroup } from './process-group.js';

export interface ShellOptions {
  shell: 'bash' | '/bin/sh';
  cwd: string;
  env: Record<string, string>;
  /** A private directory (mode 0700) for command files and the saved shell state. */
  controlDir: string;
  onOutput(line: string): void;
  /** How long a stopped group gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
}

export type CommandOutcome = { kind: 'exited'; status: number } | { kind: 'halted' };

interface Pending {
  id: number;
  status?: number;
  flushed: boolean;
  resolve(outcome: CommandOutcome): void;
}

interface LiveShell {
  child: ChildProcess;
  pid: number | undefined;
  exited: Promise<number>;
  stdoutEnded: Promise<void>;
}

const DEFAULT_KILL_GRACE_MS = 2000;

const quote = (text: string) => `'${text.replaceAll("'", `'"'"'`)}'`;

export class ShellSession {
  private live: LiveShell | null = null;
  private pending: Pending | null = null;
  private nextId = 1;
  private readonly nonce = randomBytes(16).toString('hex');
  private readonly envFile: string;
  private readonly cwdFile: string;

  constructor(private readonly options: ShellOptions) {
    this.envFile = join(options.controlDir, 'env.sh');
    this.cwdFile = join(options.controlDir, 'cwd');
  }

  /** Runs one command (any shell text, multi-line included) and reports its last exit status. */
  async run(command: string, halt: AbortSignal): Promise<CommandOutcome> {
    if (halt.aborted) return { kind: 'halted' };
    const id = this.nextId++;
    const file = join(this.options.controlDir, `cmd-${id}.sh`);
    await writeFile(file, `${command}\n`, { mode: 0o600 });
    const live = this.live ?? this.start();
    const outcome = new Promise<CommandOutcome>((resolve) => {
      this.pending = { id, flushed: false, resolve };
    });
    const epilogue = [
      `__cbr_status=$?`,
      `export -p >${quote(this.envFile)}`,
      `pwd >${quote(this.cwdFile)}`,
      `printf '%s\\n' '${this.nonce}:${id}'`,
      `printf '${id} %s\\n' "$__cbr_status" >&3`,
    ].join('; ');
    live.child.stdin?.write(
      `. ${quote(file)} </dev/null 2>&1 3>&-\n{ ${epilogue}; } 2>/dev/null\n`,
    );

    // Once the group is ended the command is over, even if the shell has not reported its exit.
    const onHalt = () => void this.kill(live).then(() => this.settle(id, { kind: 'halted' }));
    halt.addEventListener('abort', onHalt, { once: true });
    // A stop that came while the command was being written has fired already.
    if (halt.aborted) onHalt();
    live.exited.then(async (status) => {
      // The shell ended inside the command: its status is the command's.
      await within(live.stdoutEnded, 500);
      this.settle(id, halt.aborted ? { kind: 'halted' } : { kind: 'exited', status });
    });
    try {
      return await outcome;
    } finally {
      halt.removeEventListener('abort', onHalt);
      await rm(file, { force: true });
    }
  }

  /** The values of `names` in the shell now; unset ones are absent from the map. */
  async readVariables(names: string[], halt: AbortSignal): Promise<Map<string, string>> {
    const valid = names.filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
    const files = valid.map((_, index) => join(this.options.controlDir, `var-${index}`));
    const script = valid
      .map(
        (name, index) =>
          `if [ -n "\${${name}+x}" ]; then printf '%s' "$${name}" >${quote(files[index]!)}; fi`,
      )
      .join('\n');
    const values = new Map<string, string>();
    if (valid.length === 0) return values;
    const outcome = await this.run(`{\n${script}\n} 2>/dev/null`, halt);
    if (outcome.kind === 'halted') return values;
    for (const [index, name] of valid.entries()) {
      const value = await readFile(files[index]!, 'utf8').catch(() => undefined);
      if (value !== undefined) values.set(name, value);
      await rm(files[index]!, { force: true });
    }
    return values;
  }

  /** Ends the shell and every process left in its group (background jobs die with the build). */
  async close(): Promise<void> {
    const live = this.live;
    if (!live) return;
    live.child.stdin?.end();
    await within(live.exited, 1000);
    await this.kill(live);
  }

  private start(): LiveShell {
    const { options } = this;
    const restoredCwd = existsSync(this.cwdFile) ? readFileSync(this.cwdFile, 'utf8').trim() : '';
    const cwd = restoredCwd && isDirectory(restoredCwd) ? restoredCwd : options.cwd;
    const child = spawn(options.shell, ['-s'], {
      cwd,
      env: options.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    child.stdin?.on('error', () => {});
    const exited = new Promise<number>((resolve) => {
      child.once('error', (error) => {
        options.onOutput(`${options.shell}: cannot start the build shell: ${error.message}`);
        resolve(127);
      });
      child.once('exit', (code, signal) => {
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    });
    const stdoutEnded = new Promise<void>((resolve) => {
      child.stdout?.once('end', resolve);
      child.stdout?.once('error', () => resolve());
    });
    const live: LiveShell = { child, pid: child.pid, exited, stdoutEnded };
    this.live = live;
    exited.then(() => {
      if (this.live === live) this.live = null;
    });

    const token = `${this.nonce}:`;
    const stdout = new LineSplitter((line) => {
      const at = line.lastIndexOf(token);
      const id = at >= 0 ? Number(line.slice(at + token.length)) : Number.NaN;
      if (
        at < 0 ||
        !Number.isInteger(id) ||
        line.length !== at + token.length + String(id).length
      ) {
        options.onOutput(line);
        return;
      }
      // A last output line without a newline ends just before the token.
      if (at > 0) options.onOutput(line.slice(0, at));
      this.markFlushed(id);
    });
    pipeLines(child.stdout, stdout);
    pipeLines(child.stderr, new LineSplitter(options.onOutput));
    pipeLines(
      child.stdio[3] as Readable | null,
      new LineSplitter((line) => {
        const [id, status] = line.split(' ').map(Number);
        if (id !== undefined && status !== undefined) this.markStatus(id, status);
      }),
    );
    if (existsSync(this.envFile)) {
      child.stdin?.write(`. ${quote(this.envFile)} >/dev/null 2>&1\n`);
    }
    return live;
  }

  private markFlushed(id: number): void {
    if (this.pending?.id !== id) return;
    this.pending.flushed = true;
    this.settleIfComplete();
  }

  private markStatus(id: number, status: number): void {
    if (this.pending?.id !== id) return;
    this.pending.status = status;
    this.settleIfComplete();
  }

  private settleIfComplete(): void {
    const pending = this.pending;
    if (pending?.flushed && pending.status !== undefined) {
      this.settle(pending.id, { kind: 'exited', status: pending.status });
    }
  }

  private settle(id: number, outcome: CommandOutcome): void {
    if (this.pending?.id !== id) return;
    const { resolve } = this.pending;
    this.pending = null;
    resolve(outcome);
  }

  /** SIGTERM to the group, SIGKILL to whatever is left after the grace period. */
  private async kill(live: LiveShell): Promise<void> {
    if (live.pid === undefined) return;
    await endGroup(live.pid, this.options.killGraceMs ?? DEFAULT_KILL_GRACE_MS);
    await within(live.exited, 1000);
  }
}

function pipeLines(stream: Readable | null | undefined, splitter: LineSplitter): void {
  if (!stream) return;
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => splitter.push(chunk));
  stream.on('end', () => splitter.end());
  stream.on('error', () => splitter.end());
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
