/**
 * One of INSTALL, PRE_BUILD, BUILD, POST_BUILD: `commands` in order until one fails, then
 * `finally` in order until one fails (it runs whether or not a command failed). The phase fails
 * if either list had a failing command; its context names the first. A stop or timeout ends the
 * phase at once: `finally` does not run in a stopped shell.
 */
import type { BuildspecPhase } from '../../buildspec/index.js';
import type { OnFailure } from './on-failure.js';
import type { ShellSession } from './shell.js';
import type { PhaseContext } from './types.js';

export type PhaseOutcome =
  | { status: 'SUCCEEDED' }
  | { status: 'FAILED'; context: PhaseContext }
  | { status: 'HALTED' };

export interface CommandRunner {
  shell: ShellSession;
  halt: AbortSignal;
  /** An agent log line; masking is the caller's. */
  log(message: string): void;
  mask(text: string): string;
}

type ListOutcome = { kind: 'ok' } | { kind: 'failed'; context: PhaseContext } | { kind: 'halted' };

export async function runCommandPhase(
  phaseType: string,
  phase: BuildspecPhase,
  onFailure: OnFailure,
  runner: CommandRunner,
): Promise<PhaseOutcome> {
  for (let attempt = 0; ; attempt++) {
    const commands = await runList(phase.commands, runner);
    if (commands.kind === 'halted') return { status: 'HALTED' };
    const cleanup = phase.finally ? await runList(phase.finally, runner) : { kind: 'ok' as const };
    if (cleanup.kind === 'halted') return { status: 'HALTED' };
    const failure =
      commands.kind === 'failed' ? commands : cleanup.kind === 'failed' ? cleanup : null;
    if (!failure) return { status: 'SUCCEEDED' };
    const retry =
      onFailure.kind === 'RETRY' &&
      attempt < onFailure.retries &&
      onFailure.pattern.test(failure.context.message);
    if (!retry) return { status: 'FAILED', context: failure.context };
    runner.log(
      `Phase ${phaseType} failed, retrying it (retry ${attempt + 1} of ${onFailure.retries})`,
    );
  }
}

async function runList(commands: string[], runner: CommandRunner): Promise<ListOutcome> {
  for (const command of commands) {
    // Shown without the trailing newline a YAML block (`|`) leaves; run exactly as written.
    const shown = command.trimEnd();
    runner.log(`Running command ${shown}`);
    const outcome = await runner.shell.run(command, runner.halt);
    if (outcome.kind === 'halted') return { kind: 'halted' };
    if (outcome.status !== 0) {
      const reason = `exit status ${outcome.status}`;
      runner.log(`Command did not exit successfully ${shown} ${reason}`);
      return {
        kind: 'failed',
        context: {
          statusCode: 'COMMAND_EXECUTION_ERROR',
          message: runner.mask(`Error while executing command: ${shown}. Reason: ${reason}`),
        },
      };
    }
  }
  return { kind: 'ok' };
}
