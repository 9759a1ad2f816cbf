/**
 * What the Action says to the runner, as an interface: the entry hands in @actions/core, tests
 * may hand in a recorder. Log lines of the build go through `write` untouched (see log-groups.ts).
 */
import * as core from '@actions/core';
import type { Logger } from '../src/deps.js';

export interface ActionIo {
  info(message: string): void;
  debug(message: string): void;
  warning(message: string, title?: string): void;
  /** An error annotation; `title` is what the annotation list shows. */
  error(message: string, title: string): void;
  setOutput(name: string, value: string): void;
  /** Masks `value` in everything the job prints from now on. */
  setSecret(value: string): void;
  saveState(name: string, value: string): void;
  writeSummary(markdown: string): Promise<void>;
  /** Raw text to the job log (stdout). */
  write(text: string): void;
}

export const coreIo: ActionIo = {
  info: (message) => core.info(message),
  debug: (message) => core.debug(message),
  warning: (message, title) => core.warning(message, title ? { title } : {}),
  error: (message, title) => core.error(message, { title }),
  setOutput: (name, value) => core.setOutput(name, value),
  setSecret: (value) => core.setSecret(value),
  saveState: (name, value) => core.saveState(name, value),
  writeSummary: async (markdown) => {
    // Without GITHUB_STEP_SUMMARY (a run outside Actions) there is nowhere to write it.
    if (!process.env.GITHUB_STEP_SUMMARY) return;
    await core.summary.addRaw(markdown, true).write();
  },
  write: (text) => {
    process.stdout.write(text);
  },
};

function logLine(bindings: object, fields: object, message?: string): string {
  const all: Record<string, unknown> = { ...bindings, ...fields };
  for (const [key, value] of Object.entries(all)) {
    if (value instanceof Error) all[key] = value.message;
  }
  const detail = Object.keys(all).length > 0 ? ` ${JSON.stringify(all)}` : '';
  return `${message ?? ''}${detail}`;
}

/**
 * The core's Logger in the job log: debug and info only with step debugging on; warnings and
 * errors (a throttled call backing off, say) as plain lines, never as annotations: the Action
 * decides what deserves one.
 */
export function coreLogger(bindings: object = {}): Logger {
  return {
    debug: (fields, message) => core.debug(logLine(bindings, fields, message)),
    info: (fields, message) => core.debug(logLine(bindings, fields, message)),
    warn: (fields, message) => core.info(logLine(bindings, fields, message)),
    error: (fields, message) => core.info(logLine(bindings, fields, message)),
    child: (more) => coreLogger({ ...bindings, ...more }),
  };
}
