/**
 * One HTTP call with bounded retries: 429 and 5xx (and network errors) are retried with
 * exponential back-off and jitter, honouring Retry-After, until a time budget runs out.
 * Other answers are returned to the caller as they are.
 */
import type { Clock, Fetch, Logger } from '../deps.js';
import { HostApiError } from '../errors.js';

export interface RetryOptions {
  fetch: Fetch;
  clock: Clock;
  logger?: Logger;
  /** Name used in errors and logs, e.g. `GitHub`. */
  host: string;
  /** Total time the attempts and waits may take. Default 30 s. */
  budgetMs?: number;
  /** Default 6. */
  maxAttempts?: number;
  /** First back-off; doubles each time. Default 500 ms. */
  baseDelayMs?: number;
  random?: () => number;
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

export async function requestWithRetry(
  url: string,
  init: RequestInit & { method: string },
  options: RetryOptions,
): Promise<Response> {
  const { clock } = options;
  const budget = options.budgetMs ?? 30_000;
  const maxAttempts = options.maxAttempts ?? 6;
  const base = options.baseDelayMs ?? 500;
  const random = options.random ?? Math.random;
  const deadline = clock.now() + budget;
  let lastProblem = '';
  let lastStatus = 0;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    let wait: number | null = null;
    try {
      const response = await options.fetch(url, {
        ...init,
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(deadline - clock.now()))),
      });
      if (!isRetryableStatus(response.status)) return response;
      lastStatus = response.status;
      lastProblem = await readErrorMessage(response);
      wait = parseRetryAfter(response.headers.get('retry-after'), clock.now());
    } catch (error) {
      lastStatus = 0;
      lastProblem = error instanceof Error ? error.message : String(error);
    }
    const backoff = base * 2 ** (attempt - 1) * (0.5 + random() / 2);
    const delay = wait ?? backoff;
    if (attempt === maxAttempts || clock.now() + delay > deadline) break;
    options.logger?.warn(
      { host: options.host, method: init.method, url, status: lastStatus, attempt, delayMs: delay },
      'host API call failed; retrying',
    );
    await clock.sleep(delay);
  }
  throw new HostApiError(options.host, lastStatus, lastProblem || 'no answer', init.method, url);
}

/** The host's own words from an error answer: a JSON `message`/`error`, else the text, trimmed. */
export async function readErrorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  let message = text;
  try {
    const json = JSON.parse(text) as Record<string, unknown>;
    const candidate =
      json.message ?? (json.error as { message?: unknown })?.message ?? json.error ?? json.errors;
    if (candidate !== undefined) {
      message = typeof candidate === 'string' ? candidate : JSON.stringify(candidate);
    }
  } catch {
    // Not JSON: keep the text.
  }
  message = message.replace(/\s+/g, ' ').trim();
  return message.length > 500 ? `${message.slice(0, 500)}…` : message || response.statusText;
}
