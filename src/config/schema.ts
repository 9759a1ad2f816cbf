/**
 * The config file's shape, key by key. Every key is documented where it is declared (here,
 * host.ts, rule.ts); parse.ts turns what zod finds into errors that name the key, the line and
 * the fix.
 */
import { z } from 'zod';
import { HostSchema } from './host.js';
import { RuleSchema } from './rule.js';
import { httpUrl } from './zod-helpers.js';

export const ConfigSchema = z
  .strictObject({
    /** The AWS region of the projects; default: the AWS environment's. */
    region: z
      .string({ error: 'must be an AWS region, e.g. region: us-east-1' })
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, { error: 'must be an AWS region, e.g. region: us-east-1' })
      .optional(),
    /** Where the server is reachable, for links. */
    publicUrl: httpUrl('publicUrl', 'https://ci.example.com').optional(),
    /** One connection per id; a host's webhook URL is /webhooks/<id>. */
    hosts: z.record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, {
        error: 'a host id goes in the webhook URL: letters, digits, - and _, e.g. github',
      }),
      HostSchema,
      { error: 'must be a map of host id to host, e.g. hosts: { github: { kind: github, ... } }' },
    ),
    rules: z
      .array(RuleSchema, {
        error: 'must be a list of rules, e.g. rules: [{ repos: ["acme/*"], project: acme-ci }]',
      })
      .min(1, {
        error: 'no rules: add one, e.g. rules: [{ repos: ["acme/*"], project: acme-ci }]',
      }),
  })
  .transform((config) => ({
    region: config.region ?? null,
    publicUrl: config.publicUrl ?? null,
    hosts: config.hosts,
    rules: config.rules,
  }));

export type Config = z.output<typeof ConfigSchema>;
export type HostConfig = Config['hosts'][string];
export type Rule = Config['rules'][number];
export type BuildOverrides = Rule['overrides'];
