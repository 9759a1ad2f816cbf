/** A git host connection: its kind, API, and where its secrets come from. */
import { z } from 'zod';
import type { HostKind } from '../forge/types.js';
import { ENV_NAME, fail, httpUrl, referenceProblem } from './zod-helpers.js';

export const HOST_KINDS: readonly HostKind[] = [
  'github',
  'gitlab',
  'bitbucket',
  'bitbucket-dc',
  'gitea',
  'forgejo',
  'azure-devops',
];

/** Kinds with no SaaS API to default to: their `apiUrl` is required. */
export const SELF_HOSTED_KINDS: readonly HostKind[] = ['bitbucket-dc', 'gitea', 'forgejo'];

/** Where a secret the server itself needs comes from. */
export type SecretSource =
  | { from: 'env'; name: string }
  | { from: 'secretsManager'; reference: string };

/**
 * `{ secretsManager: "secret-id[:json-key]" }` or `{ env: VARIABLE }`: exactly one. A bare
 * string is refused because it is nearly always the secret pasted in; the message never
 * repeats it.
 */
export function secretSource(key: string) {
  const fix = `write ${key}: { secretsManager: "<secret-id>[:json-key]" } or ${key}: { env: <VARIABLE> }`;
  return z
    .unknown()
    .optional()
    .transform((value, ctx): SecretSource | null => {
      if (value === undefined || value === null) return null;
      if (typeof value === 'string' || typeof value === 'number') {
        return fail(ctx, `a secret must be given as a reference, never its value: ${fix}`);
      }
      if (typeof value !== 'object' || Array.isArray(value)) return fail(ctx, `must be ${fix}`);
      const record = value as Record<string, unknown>;
      const unknown = Object.keys(record).filter((k) => k !== 'env' && k !== 'secretsManager');
      if (unknown.length > 0)
        return fail(ctx, `unknown key "${unknown[0]}": ${fix}`, [unknown[0]!]);
      if ('env' in record === 'secretsManager' in record) {
        return fail(ctx, `give exactly one of env or secretsManager: ${fix}`);
      }
      if ('env' in record) {
        if (typeof record.env !== 'string' || !ENV_NAME.test(record.env)) {
          return fail(ctx, 'must be the name of an environment variable, e.g. GH_WEBHOOK_SECRET', [
            'env',
          ]);
        }
        return { from: 'env', name: record.env };
      }
      if (typeof record.secretsManager !== 'string') {
        return fail(ctx, `must be text: ${fix}`, ['secretsManager']);
      }
      const problem = referenceProblem(record.secretsManager);
      if (problem) return fail(ctx, problem, ['secretsManager']);
      return { from: 'secretsManager', reference: record.secretsManager };
    });
}

/** The clone token is read by the BUILD from Secrets Manager, so only a reference will do. */
const CloneToken = z
  .unknown()
  .optional()
  .transform((value, ctx): string | null => {
    if (value === undefined || value === null) return null;
    const fix =
      'write cloneToken: "<secret-id>[:json-key]", e.g. cloneToken: "codebuild-run/github:token"';
    let reference: unknown = value;
    if (typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      if ('env' in record) {
        return fail(
          ctx,
          `the build reads the clone token itself, from Secrets Manager: an environment variable of the server is not visible to it; ${fix}`,
        );
      }
      reference = record.secretsManager;
    }
    if (typeof reference !== 'string')
      return fail(ctx, `must be a Secrets Manager reference: ${fix}`);
    const problem = referenceProblem(reference);
    return problem ? fail(ctx, problem) : reference;
  });

export const HostSchema = z
  .strictObject(
    {
      /** Which host this is; decides how deliveries are verified and statuses posted. */
      kind: z.enum(HOST_KINDS as [HostKind, ...HostKind[]]),
      /** The API base. Default: the SaaS API of the kind; required for self-hosted kinds. */
      apiUrl: httpUrl('apiUrl', 'https://gitea.example.com/api/v1').optional(),
      /** Verifies deliveries (HMAC key, GitLab token, Azure Basic password). Without it every delivery is refused. */
      webhookSecret: secretSource('webhookSecret'),
      /** Also accepted while the webhook secret is being rotated. */
      previousWebhookSecret: secretSource('previousWebhookSecret'),
      /** Posts commit statuses. Without it no status is posted. */
      apiToken: secretSource('apiToken'),
      /** Secrets Manager reference the build resolves to clone; omit for public repositories. */
      cloneToken: CloneToken,
      /** The token's user name; Gitea and Forgejo need it for HTTPS clone auth. */
      account: z
        .string({ error: 'must be the user name of the token, e.g. account: ci-bot' })
        .min(1)
        .optional(),
    },
    {
      error: 'must be a mapping, e.g. { kind: github, webhookSecret: { env: GH_WEBHOOK_SECRET } }',
    },
  )
  .transform((host) => ({
    kind: host.kind,
    apiUrl: host.apiUrl ?? null,
    webhookSecret: host.webhookSecret,
    previousWebhookSecret: host.previousWebhookSecret,
    apiToken: host.apiToken,
    cloneToken: host.cloneToken,
    account: host.account ?? null,
  }));
