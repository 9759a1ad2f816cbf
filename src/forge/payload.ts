/** Helpers for drivers turning a verified body into host-neutral events. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { WebhookPayloadError } from '../errors.js';
import type { WebhookRequest } from './types.js';

/** A full object id: SHA-1 (40 hex) or SHA-256 (64 hex); hosts serve repositories of both. */
export const GitObjectId = z
  .string()
  .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'not a git object id');

/** Clone and web URLs: http(s) only, so no other git transport sneaks in (self-hosted may be http). */
export const HttpUrl = z.url({ protocol: /^https?$/ });

/** A deleted ref is reported with an all-zero sha: 40 digits (SHA-1) or 64 (SHA-256). */
export function isZeroSha(sha: string | null | undefined): boolean {
  return typeof sha === 'string' && /^0+$/.test(sha) && (sha.length === 40 || sha.length === 64);
}

/** Decodes and parses the JSON body; call only after verification. */
export function parseJsonBody<T extends z.ZodType>(
  request: WebhookRequest,
  schema: T,
  host: string,
): z.infer<T> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
  } catch (cause) {
    throw new WebhookPayloadError(`the ${host} delivery body is not valid UTF-8 JSON`, { cause });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(body)';
    throw new WebhookPayloadError(
      `the ${host} delivery is not a push payload as the host documents it: ${where}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/** For hosts that send no delivery id: a stable id from the body, so redeliveries dedupe. */
export function bodyDigest(request: WebhookRequest): string {
  return `sha256:${createHash('sha256').update(request.body).digest('hex').slice(0, 32)}`;
}

/** `refs/heads/x` → branch x, `refs/tags/v1` → tag v1; anything else is not buildable. */
export function splitRef(ref: string): { refKind: 'branch' | 'tag'; refName: string } | null {
  if (ref.startsWith('refs/heads/')) return { refKind: 'branch', refName: ref.slice(11) };
  if (ref.startsWith('refs/tags/')) return { refKind: 'tag', refName: ref.slice(10) };
  return null;
}

/** The unique paths touched by a list of commits, in first-seen order. */
export function collectPaths(
  commits: ReadonlyArray<{ added?: string[]; modified?: string[]; removed?: string[] }>,
): string[] {
  const seen = new Set<string>();
  for (const commit of commits) {
    for (const list of [commit.added, commit.modified, commit.removed]) {
      for (const path of list ?? []) seen.add(path);
    }
  }
  return [...seen];
}

/** Cuts `text` to at most `limit` characters, ending with an ellipsis when it was cut. */
export function truncate(text: string, limit: number): string {
  const chars = [...text];
  if (chars.length <= limit) return text;
  return `${chars.slice(0, Math.max(0, limit - 1)).join('')}…`;
}
