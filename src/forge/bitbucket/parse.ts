/** Bitbucket Cloud `repo:push` → one PushEvent per branch or tag change. Pure: after verify. */
import { bodyDigest, parseJsonBody } from '../payload.js';
import type { ParseResult, PushEvent, Repository, WebhookRequest } from '../types.js';
import { type BitbucketChange, BitbucketPushPayload } from './schema.js';
import { deliveryIdPerRef } from './shared.js';

const REF_PREFIX: Record<string, { refKind: 'branch' | 'tag'; prefix: string } | undefined> = {
  branch: { refKind: 'branch', prefix: 'refs/heads/' },
  tag: { refKind: 'tag', prefix: 'refs/tags/' },
};

interface RefChange {
  change: BitbucketChange;
  ref: string;
  refName: string;
  refKind: 'branch' | 'tag';
}

/** The change's ref, from `new` or (when deleted) `old`; null for anything but a branch or tag. */
function refChangeOf(change: BitbucketChange): RefChange | null {
  const current = change.new ?? change.old;
  const kind = current ? REF_PREFIX[current.type] : undefined;
  if (!current || !kind) return null;
  return {
    change,
    ref: `${kind.prefix}${current.name}`,
    refName: current.name,
    refKind: kind.refKind,
  };
}

function repositoryOf(payload: BitbucketPushPayload): Repository {
  const { repository } = payload;
  const webUrl = repository.links.html.href;
  return {
    fullName: repository.full_name,
    id: repository.uuid ?? null,
    // The payload has no clone link; the repository page's host is the clone host.
    cloneUrl: `${new URL(webUrl).origin}/${repository.full_name}.git`,
    webUrl,
    defaultBranch: repository.mainbranch?.name ?? null,
    private: repository.is_private ?? null,
  };
}

export function parseBitbucket(request: WebhookRequest): ParseResult {
  const eventName = request.headers['x-event-key'] ?? '(no X-Event-Key header)';
  if (eventName !== 'repo:push') {
    return { outcome: 'ignored', eventName, reason: 'only repo:push deliveries start builds' };
  }
  const payload = parseJsonBody(request, BitbucketPushPayload, 'Bitbucket Cloud');
  const refChanges = payload.push.changes
    .map(refChangeOf)
    .filter((refChange): refChange is RefChange => refChange !== null);
  if (refChanges.length === 0) {
    return { outcome: 'ignored', eventName, reason: 'the push changed no branch or tag' };
  }
  const repo = repositoryOf(payload);
  const { actor } = payload;
  const pusher = actor?.nickname ?? actor?.username ?? actor?.display_name ?? null;
  const deliveryId = request.headers['x-request-uuid'] || bodyDigest(request);
  const events = refChanges.map(({ change, ref, refName, refKind }): PushEvent => {
    const deleted = change.closed || change.new === null;
    return {
      host: 'bitbucket',
      deliveryId: deliveryIdPerRef(deliveryId, ref, refChanges.length),
      repo,
      ref,
      refName,
      refKind,
      before: change.old?.target.hash ?? null,
      sha: deleted ? null : (change.new?.target.hash ?? null),
      created: change.created || change.old === null,
      deleted,
      headCommitMessage: deleted ? null : (change.new?.target.message ?? null),
      // Bitbucket Cloud sends no file lists at all.
      changedPaths: null,
      pusher,
    };
  });
  return { outcome: 'push', events };
}
