/**
 * Gitea / Forgejo commit statuses: POST {base}/repos/{owner}/{repo}/statuses/{sha}, where the
 * base is the API's, `https://gitea.example.com/api/v1`, as every host's apiUrl is its API base.
 */
import { CodebuildRunError } from '../../errors.js';
import { truncate } from '../payload.js';
import { apiUrl, sendStatusRequest } from '../status-request.js';
import type { CommitState, CommitStatus, HostApi, StatusTarget } from '../types.js';

type GiteaState = 'pending' | 'success' | 'error' | 'failure' | 'warning';

/**
 * No "running" or "canceled" here. Canceled maps to error, not failure: a canceled build says
 * nothing about the commit, and error still blocks a required check. Nothing maps to warning.
 */
const GITEA_STATE: Record<CommitState, GiteaState> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  canceled: 'error',
};

/** Gitea stores both as TEXT, so it refuses nothing; 255 keeps them to one readable line. */
export const GITEA_LIMITS = { description: 255, context: 255 } as const;

export async function postGiteaStatus(
  host: string,
  api: HostApi,
  target: StatusTarget,
  status: CommitStatus,
): Promise<void> {
  const [owner, name] = ownerAndName(target.repo.fullName, host);
  const path = `repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/statuses/${encodeURIComponent(target.sha)}`;
  await sendStatusRequest(api, {
    host,
    method: 'POST',
    url: apiUrl(api.baseUrl, path),
    headers: { authorization: `token ${api.token}` },
    body: {
      state: GITEA_STATE[status.state],
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      description: truncate(status.description, GITEA_LIMITS.description),
      context: truncate(status.context, GITEA_LIMITS.context),
    },
  });
}

function ownerAndName(fullName: string, host: string): [string, string] {
  const parts = fullName.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new CodebuildRunError(
      `"${fullName}" is not a ${host} repository name of the form owner/name`,
      'host.bad-repository',
    );
  }
  return [parts[0], parts[1]];
}
