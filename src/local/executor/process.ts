/** Runs a helper process (git) that a stop or timeout ends with its whole process group. */
import { spawn } from 'node:child_process';
import { endGroup } from './process-group.js';

export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  halted: boolean;
}

const KILL_GRACE_MS = 2000;

export function runProcess(
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string>; halt: AbortSignal },
): Promise<ProcessResult> {
  return new Promise((resolve) => {
    if (options.halt.aborted) {
      resolve({ code: -1, stdout: '', stderr: '', halted: true });
      return;
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const onHalt = () => {
      if (child.pid !== undefined) void endGroup(child.pid, KILL_GRACE_MS);
    };
    options.halt.addEventListener('abort', onHalt, { once: true });
    const done = (code: number) => {
      options.halt.removeEventListener('abort', onHalt);
      resolve({ code, stdout, stderr, halted: options.halt.aborted });
    };
    child.once('error', (error) => {
      stderr += `${command}: ${error.message}\n`;
      done(127);
    });
    child.once('close', (code) => done(code ?? 128));
  });
}
