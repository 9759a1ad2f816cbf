/**
 * Shared verification helpers. Every comparison is constant-time over equal-length digests, and
 * no error message ever carries a secret or the received signature.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookVerificationError } from '../errors.js';
import type { WebhookRequest } from './types.js';

export function hmacSha256Hex(secret: string, body: Uint8Array): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** Constant-time equality of two strings of any length (compares their SHA-256 digests). */
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}

/** The secrets worth trying; throws when none is configured, so an empty config fails closed. */
export function usableSecrets(secrets: readonly string[], host: string): string[] {
  const usable = secrets.filter((s) => s.length > 0);
  if (usable.length === 0) {
    throw new WebhookVerificationError(
      'no-secret-configured',
      `no webhook secret is configured for this ${host} connection, so no delivery can be verified; set its webhook secret`,
    );
  }
  return usable;
}

export function requireHeader(request: WebhookRequest, name: string, host: string): string {
  const value = request.headers[name.toLowerCase()];
  if (value === undefined || value === '') {
    throw new WebhookVerificationError(
      'missing-header',
      `the ${host} delivery has no ${name} header; check that the webhook is configured with a secret`,
    );
  }
  return value;
}

/**
 * Verifies a hex HMAC-SHA256 of the body, as sent in `header` (optionally behind `prefix`,
 * e.g. `sha256=`), against each configured secret: the second one serves during rotation.
 */
export function verifyHmacSha256(
  request: WebhookRequest,
  secrets: readonly string[],
  options: { header: string; prefix: string; host: string },
): void {
  const candidates = usableSecrets(secrets, options.host);
  const value = requireHeader(request, options.header, options.host).trim();
  if (!value.startsWith(options.prefix)) {
    throw new WebhookVerificationError(
      'malformed-header',
      `the ${options.host} ${options.header} header is not of the form ${options.prefix}<hex HMAC-SHA256>`,
    );
  }
  const received = value.slice(options.prefix.length).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(received)) {
    throw new WebhookVerificationError(
      'malformed-header',
      `the ${options.host} ${options.header} header is not of the form ${options.prefix}<hex HMAC-SHA256>`,
    );
  }
  const receivedBytes = Buffer.from(received, 'hex');
  let matched = false;
  // Check every secret, not just until the first match, so timing says nothing about which one.
  for (const secret of candidates) {
    const expected = Buffer.from(hmacSha256Hex(secret, request.body), 'hex');
    if (timingSafeEqual(expected, receivedBytes)) matched = true;
  }
  if (!matched) {
    throw new WebhookVerificationError(
      'mismatch',
      `the ${options.host} ${options.header} signature does not match the body for any configured secret; check the webhook secret on both sides`,
    );
  }
}

/** Verifies a shared token sent verbatim in a header (GitLab's X-Gitlab-Token). */
export function verifySharedToken(
  request: WebhookRequest,
  secrets: readonly string[],
  options: { header: string; host: string; valuePrefix?: string },
): void {
  const candidates = usableSecrets(secrets, options.host);
  const received = requireHeader(request, options.header, options.host);
  let matched = false;
  for (const secret of candidates) {
    if (constantTimeEqual(`${options.valuePrefix ?? ''}${secret}`, received)) matched = true;
  }
  if (!matched) {
    throw new WebhookVerificationError(
      'mismatch',
      `the ${options.host} ${options.header} header does not match any configured secret; check the webhook secret on both sides`,
    );
  }
}
