/** Webhook fixtures: the shared real payloads (../shared) and this repo's own (test/fixtures). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = join(here, '..', '..');
export const sharedFixtures = join(repoRoot, '..', 'shared', 'fixtures', 'webhooks');
export const ownFixtures = join(repoRoot, 'test', 'fixtures');

/** The exact bytes of a fixture file: sign these, never a re-serialisation. */
export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(path));
}

/** Lower-cases header names, as WebhookRequest expects. */
export function headers(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]));
}
