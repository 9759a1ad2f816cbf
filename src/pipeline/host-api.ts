/**
 * Calls to a git host's API on behalf of a job: the token comes from the host's `apiToken`
 * source, and a 401 (rotated or revoked token) drops the cached token and tries once more.
 */
import type { HostConfig, SecretSource } from '../config.js';
import { CodebuildRunError, HostApiError } from '../errors.js';
import { driverFor } from '../forge/registry.js';
import type { CommitStatus, StatusTarget } from '../forge/types.js';
import { SecretReadError } from '../secrets.js';
import type { TriggerDeps } from './types.js';

/**
 * Runs `fn` with the token `source` points to; on a 401 from the host the cached value is
 * invalidated and `fn` runs once more with a fresh one. A second 401 is thrown as it is.
 */
export async function withFreshToken<T>(
  secrets: TriggerDeps['secrets'],
  source: SecretSource,
  fn: (token: string) => Promise<T>,
): Promise<T> {
  const token = await secrets.resolve(source);
  try {
    return await fn(token);
  } catch (error) {
    if (!(error instanceof HostApiError && error.status === 401)) throw error;
    secrets.invalidate(source);
    return fn(await secrets.resolve(source));
  }
}

export type PostResult =
  | { outcome: 'posted' }
  /** The host has no apiToken: statuses are off for it (config documents this). */
  | { outcome: 'no-token' }
  /** Worth another try later: the host was down, slow, rate-limiting, or the token unreadable. */
  | { outcome: 'retry'; message: string }
  /** Another try would fail the same way: a 4xx (401 after a fresh token), a bad repo name. */
  | { outcome: 'refused'; message: string };

export interface PostDeps {
  deps: Pick<TriggerDeps, 'secrets' | 'fetch' | 'clock' | 'logger'>;
  host: HostConfig;
  hostId: string;
  retryBudgetMs: number;
}

/** Posts one commit status; never throws: the caller decides what each outcome means. */
export async function postCommitStatus(
  { deps, host, hostId, retryBudgetMs }: PostDeps,
  target: StatusTarget,
  status: CommitStatus,
): Promise<PostResult> {
  if (host.apiToken === null) return { outcome: 'no-token' };
  const driver = driverFor(host.kind);
  const baseUrl = host.apiUrl ?? driver.defaultApiBaseUrl;
  if (baseUrl === null) {
    return {
      outcome: 'refused',
      message: `host "${hostId}" (${driver.displayName}) has no apiUrl: set hosts.${hostId}.apiUrl`,
    };
  }
  try {
    await withFreshToken(deps.secrets, host.apiToken, (token) =>
      driver.postCommitStatus(
        {
          baseUrl,
          token,
          fetch: deps.fetch,
          clock: deps.clock,
          logger: deps.logger,
          retryBudgetMs,
        },
        target,
        status,
      ),
    );
    return { outcome: 'posted' };
  } catch (error) {
    return classify(error);
  }
}

function classify(error: unknown): PostResult {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof HostApiError) {
    const transient = error.status === 0 || error.status === 429 || error.status >= 500;
    return { outcome: transient ? 'retry' : 'refused', message };
  }
  // The token could not be read: Secrets Manager may be back soon, or the operator fixes it.
  if (error instanceof SecretReadError) return { outcome: 'retry', message };
  if (error instanceof CodebuildRunError) return { outcome: 'refused', message };
  return { outcome: 'retry', message };
}
