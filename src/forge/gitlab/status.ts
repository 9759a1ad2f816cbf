/** GitLab commit statuses: POST {base}/projects/:id/statuses/:sha. */
import { truncate } from '../payload.js';
import { apiUrl, sendStatusRequest } from '../status-request.js';
import type { CommitState, CommitStatus, HostApi, StatusTarget } from '../types.js';

export type GitLabState = 'pending' | 'running' | 'success' | 'failed' | 'canceled';

export const GITLAB_STATES: Record<CommitState, GitLabState> = {
  pending: 'pending',
  running: 'running',
  success: 'success',
  failure: 'failed',
  // GitLab has no separate "error": a build that could not run has failed.
  error: 'failed',
  canceled: 'canceled',
};

/** GitLab stores name and description in 255-character columns. */
export const GITLAB_LIMITS = { description: 255, context: 255 } as const;

/**
 * GitLab answers 400 "Cannot transition status via :run from :running (…)" when a status is
 * posted again in the state it already has (a retry whose first answer was lost), or a late
 * `pending` arrives once the build already runs. Either way the host already shows as much
 * as we meant to say.
 */
export function isRefusedRepeat(state: GitLabState, status: number, message: string): boolean {
  if (status !== 400) return false;
  const from = /Cannot transition status via :\w+ from :(\w+)/.exec(message)?.[1];
  return from === state || (state === 'pending' && from === 'running');
}

/** The project's numeric id, or its URL-encoded full path (`group%2Fsub%2Fname`) without one. */
function projectPath(target: StatusTarget): string {
  return encodeURIComponent(target.repo.id ?? target.repo.fullName);
}

export async function postGitLabStatus(
  api: HostApi,
  target: StatusTarget,
  status: CommitStatus,
): Promise<void> {
  const state = GITLAB_STATES[status.state];
  await sendStatusRequest(api, {
    host: 'GitLab',
    method: 'POST',
    url: apiUrl(
      api.baseUrl,
      `projects/${projectPath(target)}/statuses/${encodeURIComponent(target.sha)}`,
    ),
    // Bearer, not PRIVATE-TOKEN: GitLab takes personal, project and group access tokens and
    // OAuth tokens alike as Bearer, while PRIVATE-TOKEN refuses OAuth tokens.
    headers: { authorization: `Bearer ${api.token}` },
    body: {
      state,
      name: truncate(status.context, GITLAB_LIMITS.context),
      target_url: status.targetUrl,
      description: truncate(status.description, GITLAB_LIMITS.description),
    },
    alreadyDone: (code, message) => isRefusedRepeat(state, code, message),
  });
}
