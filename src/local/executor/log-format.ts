/**
 * CodeBuild's agent log lines: `[Container] 2026/01/01 12:00:00.123456 Entering phase BUILD`.
 * Times are UTC, as in CodeBuild's containers; the clock has milliseconds, so the last three
 * digits of the microseconds are zeros.
 */

const pad = (value: number, width = 2) => String(value).padStart(width, '0');

export function agentTime(epochMs: number): string {
  const d = new Date(epochMs);
  const date = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${date} ${time}.${pad(d.getUTCMilliseconds(), 3)}000`;
}

/** One agent message as log lines: a multi-line message continues on lines of its own. */
export function agentLines(epochMs: number, message: string): string[] {
  const [first = '', ...rest] = message.split('\n');
  return [`[Container] ${agentTime(epochMs)} ${first}`, ...rest];
}
