/** The one way drivers send a status: JSON with retries, typed errors, nothing swallowed. */
import { HostApiError } from '../errors.js';
import { readErrorMessage, requestWithRetry } from '../http/request.js';
import type { HostApi } from './types.js';

export interface StatusRequest {
  host: string;
  method: 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body: unknown;
  /**
   * A refusal that means "already so" (GitLab answers 400 to a repeated state): return true to
   * count it as done instead of an error.
   */
  alreadyDone?: (status: number, message: string) => boolean;
}

export async function sendStatusRequest(api: HostApi, request: StatusRequest): Promise<void> {
  const response = await requestWithRetry(
    request.url,
    {
      method: request.method,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'user-agent': 'codebuild-run',
        ...request.headers,
      },
      body: JSON.stringify(request.body),
    },
    {
      fetch: api.fetch,
      clock: api.clock,
      logger: api.logger,
      host: request.host,
      budgetMs: api.retryBudgetMs,
    },
  );
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const message = await readErrorMessage(response);
  if (request.alreadyDone?.(response.status, message)) return;
  throw new HostApiError(request.host, response.status, message, request.method, request.url);
}

/** Joins an API base and a path, whatever slashes each brings. */
export function apiUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}
