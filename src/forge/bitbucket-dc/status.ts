/**
 * Bitbucket Data Center build statuses:
 * POST {base}/rest/api/latest/projects/{P}/repos/{r}/commits/{sha}/builds (7.14+; 204 on success).
 */
import { buildStatusBody, splitFullName } from '../bitbucket/shared.js';
import { apiUrl, sendStatusRequest } from '../status-request.js';
import type { CommitState, CommitStatus, HostApi, StatusTarget } from '../types.js';

export type BitbucketDcState = 'INPROGRESS' | 'SUCCESSFUL' | 'FAILED' | 'CANCELLED';

export const BITBUCKET_DC_STATES: Record<CommitState, BitbucketDcState> = {
  // No queued state: a started build is in progress.
  pending: 'INPROGRESS',
  running: 'INPROGRESS',
  success: 'SUCCESSFUL',
  failure: 'FAILED',
  error: 'FAILED',
  canceled: 'CANCELLED',
};

/** Bitbucket DC limits key, name and description to 255 characters each. */
export const BITBUCKET_DC_LIMITS = { key: 255, name: 255, description: 255 } as const;

export async function postBitbucketDcStatus(
  api: HostApi,
  target: StatusTarget,
  status: CommitStatus,
): Promise<void> {
  const [project, slug] = splitFullName(
    target.repo.fullName,
    'Bitbucket Data Center',
    'PROJECTKEY/repo-slug',
  );
  const path = [
    'rest/api/latest/projects',
    encodeURIComponent(project),
    'repos',
    encodeURIComponent(slug),
    'commits',
    encodeURIComponent(target.sha),
    'builds',
  ].join('/');
  await sendStatusRequest(api, {
    host: 'Bitbucket Data Center',
    method: 'POST',
    url: apiUrl(api.baseUrl, path),
    headers: { authorization: `Bearer ${api.token}` },
    body: buildStatusBody(status, BITBUCKET_DC_STATES[status.state], BITBUCKET_DC_LIMITS),
  });
}
