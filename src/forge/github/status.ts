/** GitHub's commit status API: POST {base}/repos/{owner}/{repo}/statuses/{sha}. */
import { CodebuildRunError } from '../../errors.js';
import { truncate } from '../payload.js';
import { apiUrl, sendStatusRequest } from '../status-request.js';
import type { CommitState, CommitStatus, HostApi, StatusTarget } from '../types.js';

type GitHubState = 'pending' | 'success' | 'failure' | 'error';

/**
 * GitHub has no "running" or "canceled". Canceled maps to error, not failure: a canceled build
 * says nothing about the commit, and "error" is GitHub's word for a check that could not finish.
 * It still blocks a required check, as a canceled build should.
 */
const GITHUB_STATE: Record<CommitState, GitHubState> = {
  pending: 'pending',
  running: 'pending',
  success: 'success',
  failure: 'failure',
  error: 'error',
  canceled: 'error',
};

/** `description` is refused past 140 characters; `context` past 255 (user reports). */
export const GITHUB_LIMITS = { description: 140, context: 255 } as const;

export async function postGitHubStatus(
  api: HostApi,
  target: StatusTarget,
  status: CommitStatus,
): Promise<void> {
  const [owner, name] = ownerAndName(target.repo.fullName);
  const path = `repos/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/statuses/${encodeURIComponent(target.sha)}`;
  await sendStatusRequest(api, {
    host: 'GitHub',
    method: 'POST',
    url: apiUrl(api.baseUrl, path),
    headers: {
      authorization: `Bearer ${api.token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
    },
    body: {
      state: GITHUB_STATE[status.state],
      ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
      description: truncate(status.description, GITHUB_LIMITS.description),
      context: truncate(status.context, GITHUB_LIMITS.context),
    },
  });
}

function ownerAndName(fullName: string): [string, string] {
  const parts = fullName.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new CodebuildRunError(
      `"${fullName}" is not a GitHub repository name of the form owner/name`,
      'host.bad-repository',
    );
  }
  return [parts[0], parts[1]];
}
