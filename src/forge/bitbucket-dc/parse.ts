/** Bitbucket Data Center `repo:refs_changed` → one PushEvent per changed ref. Pure: after verify. */
import { WebhookPayloadError } from '../../errors.js';
import { deliveryIdPerRef } from '../bitbucket/shared.js';
import { bodyDigest, isZeroSha, parseJsonBody, splitRef } from '../payload.js';
import type { ParseResult, PushEvent, Repository, WebhookRequest } from '../types.js';
import { type BitbucketDcChange, BitbucketDcPushPayload } from './schema.js';

const HOST = 'Bitbucket Data Center';

/** The `http` clone link (DC names its HTTPS link so too), without any user in it. */
function cloneUrlOf(repository: BitbucketDcPushPayload['repository']): string {
  const link = repository.links.clone.find((candidate) => candidate.name === 'http');
  if (!link) {
    throw new WebhookPayloadError(
      `the ${HOST} delivery is not a push payload as the host documents it: repository.links.clone: no link named "http"`,
    );
  }
  let url: URL;
  try {
    url = new URL(link.href);
  } catch (cause) {
    throw new WebhookPayloadError(
      `the ${HOST} delivery is not a push payload as the host documents it: repository.links.clone: the http link is not a URL`,
      { cause },
    );
  }
  url.username = '';
  url.password = '';
  return url.href;
}

function repositoryOf(payload: BitbucketDcPushPayload): Repository {
  const { repository } = payload;
  const cloneUrl = cloneUrlOf(repository);
  const flags = [repository.public, repository.project.public];
  return {
    fullName: `${repository.project.key}/${repository.slug}`,
    id: String(repository.id),
    cloneUrl,
    webUrl: repository.links.self?.[0]?.href ?? cloneUrl,
    // The payload does not say which branch is the default.
    defaultBranch: null,
    // A public project makes its repositories public too.
    private: flags.includes(true) ? false : flags.includes(false) ? true : null,
  };
}

const refOf = (change: BitbucketDcChange): string => change.ref?.id ?? change.refId ?? '';

export function parseBitbucketDc(request: WebhookRequest): ParseResult {
  const eventName = request.headers['x-event-key'] ?? '(no X-Event-Key header)';
  if (eventName === 'diagnostics:ping') {
    return { outcome: 'ignored', eventName, reason: 'a test connection from the webhook settings' };
  }
  if (eventName !== 'repo:refs_changed') {
    return {
      outcome: 'ignored',
      eventName,
      reason: 'only repo:refs_changed deliveries start builds',
    };
  }
  const payload = parseJsonBody(request, BitbucketDcPushPayload, HOST);
  const changes = payload.changes.filter((change) => splitRef(refOf(change)) !== null);
  if (changes.length === 0) {
    return { outcome: 'ignored', eventName, reason: 'the push changed no branch or tag' };
  }
  const repo = repositoryOf(payload);
  const pusher = payload.actor?.slug ?? payload.actor?.name ?? null;
  const deliveryId = request.headers['x-request-id'] || bodyDigest(request);
  const events = changes.map((change): PushEvent => {
    const ref = refOf(change);
    const { refKind, refName } = splitRef(ref)!;
    const created = change.type === 'ADD' || isZeroSha(change.fromHash);
    const deleted = change.type === 'DELETE' || isZeroSha(change.toHash);
    const toCommit = payload.toCommit?.id === change.toHash ? payload.toCommit : null;
    return {
      host: 'bitbucket-dc',
      deliveryId: deliveryIdPerRef(deliveryId, ref, changes.length),
      repo,
      ref,
      refName,
      refKind,
      before: created ? null : change.fromHash,
      // For an annotated tag DC sends the tag object's id; git peels it to the commit when it
      // checks it out, but a build status posted to it does not show on the commit.
      sha: deleted ? null : change.toHash,
      created,
      deleted,
      headCommitMessage: deleted ? null : (toCommit?.message ?? null),
      // The payload lists no files.
      changedPaths: null,
      pusher,
    };
  });
  return { outcome: 'push', events };
}
