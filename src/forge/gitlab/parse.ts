/** GitLab Push Hook / Tag Push Hook → PushEvent. Pure: call only after verify. */
import { WebhookPayloadError } from '../../errors.js';
import { bodyDigest, collectPaths, isZeroSha, parseJsonBody, splitRef } from '../payload.js';
import type { ParseResult, PushEvent, WebhookRequest } from '../types.js';
import { GitLabPushPayload } from './schema.js';

const PUSH_EVENTS = new Set(['Push Hook', 'Tag Push Hook']);
const PUBLIC_VISIBILITY = 20;

/**
 * GitLab 17.4+ sends Idempotency-Key, which stays the same when GitLab retries a delivery;
 * older versions send only X-Gitlab-Event-UUID. A body digest is the last resort.
 */
function deliveryIdOf(request: WebhookRequest): string {
  return (
    request.headers['idempotency-key'] ||
    request.headers['x-gitlab-event-uuid'] ||
    bodyDigest(request)
  );
}

export function parseGitLab(request: WebhookRequest): ParseResult {
  const eventName = request.headers['x-gitlab-event'];
  if (!eventName) {
    throw new WebhookPayloadError(
      'the GitLab delivery has no X-Gitlab-Event header, so its kind is unknown',
    );
  }
  if (!PUSH_EVENTS.has(eventName)) {
    return {
      outcome: 'ignored',
      eventName,
      reason: 'only Push Hook and Tag Push Hook deliveries start builds',
    };
  }
  const payload = parseJsonBody(request, GitLabPushPayload, 'GitLab');
  const ref = splitRef(payload.ref);
  if (!ref) {
    return {
      outcome: 'ignored',
      eventName,
      reason: `ref ${payload.ref} is neither a branch nor a tag`,
    };
  }
  const created = isZeroSha(payload.before);
  const deleted = isZeroSha(payload.after);
  if (!deleted && payload.checkout_sha === null) {
    throw new WebhookPayloadError(
      'the GitLab delivery is not a push payload as the host documents it: checkout_sha is null although the ref was not deleted',
    );
  }
  const sha = deleted ? null : payload.checkout_sha;
  const { project, commits } = payload;
  const head = commits.find((commit) => commit.id === sha);
  const event: PushEvent = {
    host: 'gitlab',
    deliveryId: deliveryIdOf(request),
    repo: {
      fullName: project.path_with_namespace,
      id: String(project.id),
      cloneUrl: project.git_http_url,
      webUrl: project.web_url,
      defaultBranch: project.default_branch ?? null,
      // Internal projects still need a token to clone, so only public ones count as public.
      private:
        project.visibility_level === undefined
          ? null
          : project.visibility_level !== PUBLIC_VISIBILITY,
    },
    ref: payload.ref,
    refName: ref.refName,
    refKind: ref.refKind,
    before: created ? null : payload.before,
    sha,
    created,
    deleted,
    headCommitMessage: head?.message ?? null,
    // Tag pushes carry no commits, and a deletion changes no file: "unknown", not "none".
    changedPaths:
      deleted || ref.refKind === 'tag'
        ? null
        : {
            paths: collectPaths(commits),
            truncated: payload.total_commits_count > commits.length,
          },
    pusher: payload.user_username ?? payload.user_name ?? null,
  };
  return { outcome: 'push', events: [event] };
}
