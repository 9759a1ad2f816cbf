/**
 * What Bitbucket Cloud and Bitbucket Data Center do alike: they sign deliveries the same way,
 * may report several refs in one delivery, and take the same build-status body.
 */
import { createHash } from 'node:crypto';
import { CodebuildRunError } from '../../errors.js';
import { truncate } from '../payload.js';
import type { CommitStatus, WebhookRequest } from '../types.js';
import { verifyHmacSha256 } from '../verify.js';

/** Both send `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`. */
export function verifyHubSignature(
  request: WebhookRequest,
  secrets: readonly string[],
  host: string,
): void {
  verifyHmacSha256(request, secrets, { header: 'X-Hub-Signature', prefix: 'sha256=', host });
}

/**
 * One delivery can update several refs. Each PushEvent gets its own delivery id (the ref
 * appended) so that deduplication by delivery id keeps all of them; a single-ref delivery
 * keeps the host's id as it is.
 */
export function deliveryIdPerRef(deliveryId: string, ref: string, refCount: number): string {
  return refCount > 1 ? `${deliveryId}#${ref}` : deliveryId;
}

/**
 * A build-status key of at most `limit` characters. A key names the status: posting the same
 * key again replaces it, so a longer context is cut and given a short hash of the whole,
 * keeping two long contexts with one prefix apart and the same context always the same key.
 */
export function buildStatusKey(context: string, limit: number): string {
  const chars = [...context];
  if (chars.length <= limit) return context;
  const hash = createHash('sha256').update(context, 'utf8').digest('hex').slice(0, 8);
  return `${chars.slice(0, limit - hash.length - 1).join('')}-${hash}`;
}

/** `workspace/slug` (Cloud) or `PROJECTKEY/slug` (DC) as its two path segments. */
export function splitFullName(fullName: string, host: string, form: string): [string, string] {
  const parts = fullName.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new CodebuildRunError(
      `the ${host} repository "${fullName}" is not of the form ${form}`,
      'host.bad-repository',
    );
  }
  return [parts[0], parts[1]];
}

export interface BuildStatusBody {
  key: string;
  state: string;
  name: string;
  url: string;
  description: string;
}

export function buildStatusBody(
  status: CommitStatus,
  state: string,
  limits: { key: number; name: number; description: number },
): BuildStatusBody {
  return {
    key: buildStatusKey(status.context, limits.key),
    state,
    name: truncate(status.context, limits.name),
    url: status.targetUrl,
    description: truncate(status.description, limits.description),
  };
}
