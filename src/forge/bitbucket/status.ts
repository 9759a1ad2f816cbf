/** Bitbucket Cloud build statuses: POST {base}/2.0/repositories/{ws}/{repo}/commit/{sha}/statuses/build. */
import { apiUrl, sendStatusRequest } from '../status-request.js';
import type { CommitState, CommitStatus, HostApi, StatusTarget } from '../types.js';
import { buildStatusBody, splitFullName } from './shared.js';

export type BitbucketState = 'INPROGRESS' | 'SUCCESSFUL' | 'FAILED' | 'STOPPED';

export const BITBUCKET_STATES: Record<CommitState, BitbucketState> = {
  // Bitbucket Cloud has no queued state: a started build is in progress.
  pending: 'INPROGRESS',
  running: 'INPROGRESS',
  success: 'SUCCESSFUL',
  failure: 'FAILED',
  error: 'FAILED',
  canceled: 'STOPPED',
};

/**
 * The key (our context) may hold 40 characters; the name carries the whole context. Bitbucket
 * documents no limit for name and description: 255 keeps them to one readable line.
 */
export const BITBUCKET_LIMITS = { key: 40, name: 255, description: 255 } as const;

export async function postBitbucketStatus(
  api: HostApi,
  target: StatusTarget,
  status: CommitStatus,
): Promise<void> {
  const [workspace, slug] = splitFullName(
    target.repo.fullName,
    'Bitbucket Cloud',
    'workspace/repo-slug',
  );
  const path = [
    '2.0/repositories',
    encodeURIComponent(workspace),
    encodeURIComponent(slug),
    'commit',
    encodeURIComponent(target.sha),
    'statuses/build',
  ].join('/');
  await sendStatusRequest(api, {
    host: 'Bitbucket Cloud',
    method: 'POST',
    url: apiUrl(api.baseUrl, path),
    headers: { authorization: `Bearer ${api.token}` },
    body: buildStatusBody(status, BITBUCKET_STATES[status.state], BITBUCKET_LIMITS),
  });
}
