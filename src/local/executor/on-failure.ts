/**
 * A phase's `on-failure`: ABORT, CONTINUE, RETRY, RETRY-<n>, RETRY-<regex>, RETRY-<n>-<regex>.
 * RETRY runs the failed phase again (commands and finally) up to 3 times, RETRY-<n> up to n times
 * (0-100), and only while the failure's message (the phase context, e.g. `Error while executing
 * command: make. Reason: exit status 2`) matches the regex (default: any message).
 */

export type OnFailure =
  | { kind: 'DEFAULT' }
  | { kind: 'ABORT' }
  | { kind: 'CONTINUE' }
  | { kind: 'RETRY'; retries: number; pattern: RegExp };

const DEFAULT_RETRIES = 3;
const MAX_RETRIES = 100;

/** Throws an Error naming the value and the fix when it cannot be used. */
export function parseOnFailure(value: string | undefined): OnFailure {
  if (value === undefined) return { kind: 'DEFAULT' };
  if (value === 'ABORT' || value === 'CONTINUE') return { kind: value };
  const match = /^RETRY(?:-(\d+)(?=-|$))?(?:-(.+))?$/.exec(value);
  if (!match) {
    throw new Error(
      `on-failure "${value}": use ABORT, CONTINUE, RETRY, RETRY-<n>, RETRY-<regex> or RETRY-<n>-<regex>`,
    );
  }
  const retries = match[1] === undefined ? DEFAULT_RETRIES : Number(match[1]);
  if (retries > MAX_RETRIES) {
    throw new Error(`on-failure "${value}": the retry count must be between 0 and ${MAX_RETRIES}`);
  }
  let pattern: RegExp;
  try {
    pattern = new RegExp(match[2] ?? '.*');
  } catch (error) {
    throw new Error(
      `on-failure "${value}": "${match[2]}" is not a valid regular expression (${(error as Error).message})`,
    );
  }
  return { kind: 'RETRY', retries, pattern };
}
