/**
 * The commit a job builds and posts its statuses to. Most hosts' payloads name it; for an
 * annotated tag, Bitbucket Data Center and Azure DevOps give the tag object's id instead, which
 * git peels on checkout but where the host shows no status. For those pushes the repository is
 * asked (RepoFileReader, a shallow fetch kept in its cache), when the build starts and again for
 * each status: the job's row keeps the pushed sha, and the second ask is answered from the cache.
 *
 * The repository is read with the host's API token (the clone token is only a reference the build
 * resolves); a refused token is re-read once, in case it was rotated.
 */
import type { HostConfig } from '../config.js';
import type { Logger } from '../deps.js';
import { HostApiError } from '../errors.js';
import { driverFor } from '../forge/registry.js';
import type { CloneAuth, PushEvent } from '../forge/types.js';
import { RepoReadError } from '../git/read-file.js';
import type { JobRecord } from '../store/index.js';
import { classifyStartFailure, oneLine } from './describe.js';
import { withFreshToken } from './host-api.js';
import type { TriggerDeps } from './types.js';

export type RepoDeps = Pick<TriggerDeps, 'repoFiles' | 'secrets'>;

/**
 * The commit `sha` (the event's pushed sha) names: asked of the repository only for a tag from a
 * host whose payloads may give the tag object. Throws RepoReadError, SecretReadError.
 */
export async function commitOf(
  deps: RepoDeps,
  host: HostConfig,
  event: PushEvent,
  sha: string,
): Promise<string> {
  if (event.refKind !== 'tag' || !driverFor(host.kind).tagShaMayBeTagObject) return sha;
  const auth = driverFor(host.kind).cloneAuth(host.account ?? undefined);
  return withRepoToken(deps, host, auth, (authHeader) =>
    deps.repoFiles.resolveCommit({
      cloneUrl: event.repo.cloneUrl,
      sha,
      ...(authHeader ? { authHeader } : {}),
    }),
  );
}

/**
 * The sha a job's status goes to: its commit. When the repository cannot say now (unreachable,
 * a deadline, the token unreadable) the step is tried again later; when it refuses for good (the
 * tag was deleted), the status goes to the pushed sha, the only one left.
 */
export async function statusShaOf(
  deps: RepoDeps,
  host: HostConfig,
  job: JobRecord,
  log: Logger,
): Promise<{ sha: string } | { retry: string }> {
  // Without an API token no status is posted: nothing to ask the repository for.
  if (host.apiToken === null) return { sha: job.sha };
  try {
    return { sha: await commitOf(deps, host, job.event, job.sha) };
  } catch (error) {
    const failure = classifyStartFailure(error, job);
    if (failure.kind === 'retry') return { retry: failure.message };
    log.warn(
      { err: error, reason: oneLine(failure.description) },
      'cannot find the commit of the pushed tag; posting the status to the tag itself',
    );
    return { sha: job.sha };
  }
}

/** Runs `read` with the host's API token as an Authorization header, or none without a token. */
export async function withRepoToken<T>(
  deps: RepoDeps,
  host: HostConfig,
  auth: CloneAuth,
  read: (authHeader?: string) => Promise<T>,
): Promise<T> {
  if (host.apiToken === null) return read();
  return withFreshToken(deps.secrets, host.apiToken, async (token) => {
    try {
      return await read(authorization(auth, token));
    } catch (error) {
      // Seen as a 401 so withFreshToken re-reads the token once.
      if (error instanceof RepoReadError && error.code === 'git.unauthorized') {
        throw new HostApiError('git', 401, error.message, 'GET', error.repoUrl);
      }
      throw error;
    }
  }).catch((error: unknown) => {
    if (error instanceof HostApiError && error.host === 'git') {
      throw new RepoReadError(error.hostMessage, 'git.unauthorized', error.url);
    }
    throw error;
  });
}

function authorization(auth: CloneAuth, token: string): string {
  return auth.scheme === 'basic'
    ? `Basic ${Buffer.from(`${auth.username}:${token}`).toString('base64')}`
    : `Bearer ${token}`;
}
