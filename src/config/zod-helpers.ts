/** Small zod helpers the config schema shares. */
import { z } from 'zod';
import { looksLikeToken, parseSecretReference } from './secret-reference.js';

export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One issue at `path` below the value being checked. */
export function fail(
  ctx: z.RefinementCtx,
  message: string,
  path: (string | number)[] = [],
): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message, path });
  return z.NEVER;
}

export function referenceProblem(reference: string): string | null {
  if (looksLikeToken(reference)) {
    return 'this looks like a token itself, not a reference to one: store the token in Secrets Manager and write its secret id here, e.g. codebuild-run/github:token';
  }
  const parsed = parseSecretReference(reference);
  return 'problem' in parsed ? parsed.problem : null;
}

export function httpUrl(key: string, example: string) {
  return z.string({ error: `must be a URL, e.g. ${key}: ${example}` }).transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return fail(ctx, `"${value}" is not a URL: write e.g. ${key}: ${example}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      return fail(ctx, `must be an http(s) URL, e.g. ${key}: ${example}`);
    }
    if (url.username || url.password) {
      return fail(ctx, 'must not carry credentials: put tokens in apiToken, never in the URL');
    }
    if (url.search || url.hash)
      return fail(ctx, `must have no ?query or #fragment, e.g. ${example}`);
    return url.href.replace(/\/+$/, '');
  });
}
