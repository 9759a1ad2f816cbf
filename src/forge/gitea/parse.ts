/** Gitea / Forgejo delivery → host-neutral events. Pure: call only after verify. */
import { WebhookPayloadError } from '../../errors.js';
import { bodyDigest, collectPaths, isZeroSha, parseJsonBody, splitRef } from '../payload.js';
import type { ParseResult, PushEvent, WebhookRequest } from '../types.js';
import { GiteaPushPayload } from './schema.js';

/** What tells Gitea and Forgejo apart: the name and the prefix of their headers. */
export interface GiteaFlavour {
  readonly kind: 'gitea' | 'forgejo';
  readonly displayName: string;
  /**
   * Header prefixes in order of preference, e.g. `X-Forgejo` then `X-Gitea`: Forgejo sends
   * both sets, and releases before its own headers sent only the Gitea ones.
   */
  readonly headerPrefixes: readonly [string, ...string[]];
}

/** The first of `<prefix>-<suffix>` present, or the preferred name when none is. */
export function flavourHeader(
  request: WebhookRequest,
  flavour: GiteaFlavour,
  suffix: 'Event' | 'Delivery' | 'Signature',
): { name: string; value: string | undefined } {
  for (const prefix of flavour.headerPrefixes) {
    const name = `${prefix}-${suffix}`;
    const value = request.headers[name.toLowerCase()];
    if (value) return { name, value };
  }
  return { name: `${flavour.headerPrefixes[0]}-${suffix}`, value: undefined };
}

/**
 * Gitea cuts `commits` to its feed limit (UI.FEED_MAX_COMMIT_NUM, 5 by default) and says how
 * many there were in `total_commits`; releases without that field cut silently.
 */
const DEFAULT_FEED_MAX_COMMITS = 5;

export function parseGitea(request: WebhookRequest, flavour: GiteaFlavour): ParseResult {
  const host = flavour.displayName;
  const event = flavourHeader(request, flavour, 'Event');
  if (!event.value) {
    throw new WebhookPayloadError(
      `the ${host} delivery has no ${event.name} header, so its kind is unknown`,
    );
  }
  const eventName = event.value;
  if (eventName !== 'push') {
    return {
      outcome: 'ignored',
      eventName,
      reason: `${host} "${eventName}" events are not pushes; subscribe the webhook to push events only`,
    };
  }
  if (new TextDecoder().decode(request.body.subarray(0, 8)) === 'payload=') {
    throw new WebhookPayloadError(
      `the ${host} webhook sends form-encoded bodies; set its content type to application/json`,
    );
  }
  const payload = parseJsonBody(request, GiteaPushPayload, host);
  // "Test Delivery" sends a fake push whose before and after are the same commit; a real push
  // always moves the ref.
  if (payload.before === payload.after) {
    return {
      outcome: 'ignored',
      eventName,
      reason: `${host} test delivery (before and after are the same commit): nothing was pushed`,
    };
  }
  const ref = splitRef(payload.ref);
  if (!ref) {
    return {
      outcome: 'ignored',
      eventName,
      reason: `the pushed ref ${payload.ref} is neither a branch nor a tag`,
    };
  }
  const created = isZeroSha(payload.before);
  const deleted = isZeroSha(payload.after);
  const head = payload.head_commit ?? payload.commits.find((c) => c.id === payload.after) ?? null;
  const listed = payload.commits.length;
  const total = payload.total_commits;
  const pushEvent: PushEvent = {
    host: flavour.kind,
    deliveryId: flavourHeader(request, flavour, 'Delivery').value || bodyDigest(request),
    repo: {
      fullName: payload.repository.full_name,
      // The status API addresses repositories by owner/name.
      id: null,
      cloneUrl: payload.repository.clone_url,
      webUrl: payload.repository.html_url,
      defaultBranch: payload.repository.default_branch || null,
      private: payload.repository.private ?? null,
    },
    ref: payload.ref,
    refName: ref.refName,
    refKind: ref.refKind,
    before: created ? null : payload.before,
    // Gitea resolves head_commit through an annotated tag to its commit, as GitHub does.
    sha: deleted ? null : (head?.id ?? payload.after),
    created,
    deleted,
    headCommitMessage: head?.message ?? null,
    // No list (a deletion, a tag) says nothing about what changed. For a new branch Gitea lists
    // the latest commits of its head, not a diff against anything, so filters must fail open.
    changedPaths:
      deleted || listed === 0
        ? null
        : {
            paths: collectPaths(payload.commits),
            truncated:
              created ||
              (total === undefined ? listed >= DEFAULT_FEED_MAX_COMMITS : total > listed),
          },
    pusher: payload.pusher?.login || payload.pusher?.username || null,
  };
  return { outcome: 'push', events: [pushEvent] };
}
