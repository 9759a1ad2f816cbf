/** GitHub (and GHES) delivery → host-neutral events. Pure: call only after verify. */
import { WebhookPayloadError } from '../../errors.js';
import { bodyDigest, collectPaths, isZeroSha, parseJsonBody, splitRef } from '../payload.js';
import type { ParseResult, PushEvent, WebhookRequest } from '../types.js';
import { type GitHubCommit, GitHubPushPayload } from './schema.js';

const HOST = 'GitHub';

/**
 * GitHub lists at most 2048 commits in a push payload and at most 3000 paths per list of a
 * commit (webhook payload docs); reaching either means the list may have been cut.
 */
const MAX_COMMITS = 2048;
const MAX_PATHS_PER_LIST = 3000;

export function parseGitHub(request: WebhookRequest): ParseResult {
  const eventName = request.headers['x-github-event'];
  if (!eventName) {
    throw new WebhookPayloadError(
      'the GitHub delivery has no X-GitHub-Event header, so its kind is unknown',
    );
  }
  if (eventName === 'ping') {
    return {
      outcome: 'ignored',
      eventName,
      reason: 'GitHub pings a new webhook to check it is reachable; there is nothing to build',
    };
  }
  if (eventName !== 'push') {
    return {
      outcome: 'ignored',
      eventName,
      reason: `GitHub "${eventName}" events are not pushes; subscribe the webhook to pushes only`,
    };
  }
  rejectFormEncoding(request);
  const payload = parseJsonBody(request, GitHubPushPayload, HOST);
  const ref = splitRef(payload.ref);
  if (!ref) {
    return {
      outcome: 'ignored',
      eventName,
      reason: `the pushed ref ${payload.ref} is neither a branch nor a tag`,
    };
  }
  const deleted = isZeroSha(payload.after);
  const head = payload.head_commit ?? null;
  const event: PushEvent = {
    host: 'github',
    deliveryId: request.headers['x-github-delivery'] || bodyDigest(request),
    repo: {
      fullName: payload.repository.full_name,
      // The status API addresses repositories by owner/name, so no numeric id is needed.
      id: null,
      cloneUrl: payload.repository.clone_url,
      webUrl: payload.repository.html_url,
      defaultBranch: payload.repository.default_branch ?? null,
      private: payload.repository.private ?? null,
    },
    ref: payload.ref,
    refName: ref.refName,
    refKind: ref.refKind,
    before: isZeroSha(payload.before) ? null : payload.before,
    // For an annotated tag `after` is the tag object; head_commit is the commit it points to.
    sha: deleted ? null : (head?.id ?? payload.after),
    created: isZeroSha(payload.before),
    deleted,
    headCommitMessage: head?.message ?? null,
    // No commit list (a deletion, a tag, a branch created or rewound onto an existing commit)
    // says nothing about what changed: null, so path filters do not read it as "no change".
    changedPaths:
      deleted || payload.commits.length === 0
        ? null
        : { paths: collectPaths(payload.commits), truncated: mayBeCut(payload.commits) },
    pusher: payload.pusher?.name ?? null,
  };
  return { outcome: 'push', events: [event] };
}

function mayBeCut(commits: readonly GitHubCommit[]): boolean {
  if (commits.length >= MAX_COMMITS) return true;
  return commits.some((c) =>
    [c.added, c.modified, c.removed].some((list) => (list?.length ?? 0) >= MAX_PATHS_PER_LIST),
  );
}

function rejectFormEncoding(request: WebhookRequest): void {
  const start = new TextDecoder().decode(request.body.subarray(0, 8));
  if (start === 'payload=') {
    throw new WebhookPayloadError(
      'the GitHub webhook sends form-encoded bodies; set its content type to application/json',
    );
  }
}
