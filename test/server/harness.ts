/**
 * An app over a real in-memory store, secrets from a fake environment, a counting worker and a
 * pino logger writing into an array, plus signed deliveries built from the real fixtures.
 */
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { type AppDeps, createApp } from '../../server/app.js';
import { createLogger } from '../../server/logger.js';
import { ServerMetrics } from '../../server/metrics.js';
import { createSecretResolver } from '../../server/secrets.js';
import { parseConfig } from '../../src/config.js';
import { systemClock } from '../../src/deps.js';
import { openSqliteStore, type Store } from '../../src/store/index.js';
import { fixtureBytes, ownFixtures, sharedFixtures } from '../support/fixtures.js';

export const SECRETS = {
  GH_SECRET: 'gh-webhook-secret-4b1d9e',
  GL_SECRET: 'gl-webhook-token-8c2f11',
  BB_SECRET: 'bb-webhook-secret-5e0a7c',
  GT_SECRET: 'gt-webhook-secret-2d6b93',
};

export const CONFIG = `
hosts:
  gh: { kind: github, webhookSecret: { env: GH_SECRET } }
  gl: { kind: gitlab, webhookSecret: { env: GL_SECRET } }
  bb: { kind: bitbucket, webhookSecret: { env: BB_SECRET } }
  gt: { kind: gitea, apiUrl: "http://127.0.0.1:9/api/v1", account: ci-bot, webhookSecret: { env: GT_SECRET } }
  nosecret: { kind: github }
  missingenv: { kind: github, webhookSecret: { env: NOT_SET_ANYWHERE } }
rules:
  - { repos: ["**"], project: demo, branches: [master, main] }
`;

export interface Harness {
  app: ReturnType<typeof createApp>;
  store: Store;
  metrics: ServerMetrics;
  logLines: () => Array<Record<string, unknown>>;
  logText: () => string;
  wakes: () => number;
  jobCount: () => number;
  close(): void;
}

export function harness(overrides: Partial<AppDeps> = {}): Harness {
  const store = overrides.store ?? openSqliteStore({ path: ':memory:' });
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: { write: (line: string) => void lines.push(line) },
  });
  let wakes = 0;
  const metrics = new ServerMetrics();
  const app = createApp({
    config: parseConfig(CONFIG, 'test.yml'),
    store,
    secrets: createSecretResolver({ env: SECRETS, reader: null }),
    worker: { wake: () => void wakes++ },
    logger,
    clock: systemClock,
    metrics,
    checkAws: async () => {},
    ...overrides,
  });
  return {
    app,
    store,
    metrics,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    logText: () => lines.join(''),
    wakes: () => wakes,
    jobCount: () => {
      const steps = store.stats().jobsByStep;
      return Object.values(steps).reduce((sum, n) => sum + n, 0);
    },
    close: () => store.close(),
  };
}

export const hmac = (secret: string, body: Uint8Array) =>
  createHmac('sha256', secret).update(body).digest('hex');

export const shared = (host: string) => fixtureBytes(join(sharedFixtures, host, 'push.json'));
export const own = (host: string, name: string) =>
  fixtureBytes(join(ownFixtures, 'webhooks', host, name));

/** The fixture's JSON with `edit` applied, as new bytes (to be signed as they are). */
export function edited(bytes: Uint8Array, edit: (payload: Record<string, unknown>) => void) {
  const payload = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  edit(payload);
  return new TextEncoder().encode(JSON.stringify(payload));
}

export interface Delivery {
  headers: Record<string, string>;
  body: Uint8Array;
}

let counter = 0;
export const newDeliveryId = () => `d1e7a0c0-0000-4000-8000-${String(++counter).padStart(12, '0')}`;

/** A GitHub delivery signed as GitHub signs it (X-Hub-Signature-256 over the exact bytes). */
export function github(
  body: Uint8Array,
  options: { event?: string; delivery?: string; secret?: string } = {},
): Delivery {
  return {
    headers: {
      'content-type': 'application/json',
      'x-github-event': options.event ?? 'push',
      'x-github-delivery': options.delivery ?? newDeliveryId(),
      'x-hub-signature-256': `sha256=${hmac(options.secret ?? SECRETS.GH_SECRET, body)}`,
      'user-agent': 'GitHub-Hookshot/test',
    },
    body,
  };
}

export function gitlab(body: Uint8Array, event = 'Push Hook'): Delivery {
  return {
    headers: {
      'content-type': 'application/json',
      'x-gitlab-event': event,
      'x-gitlab-token': SECRETS.GL_SECRET,
      'x-gitlab-event-uuid': newDeliveryId(),
      'idempotency-key': newDeliveryId(),
    },
    body,
  };
}

export function bitbucket(body: Uint8Array): Delivery {
  return {
    headers: {
      'content-type': 'application/json',
      'x-event-key': 'repo:push',
      'x-request-uuid': newDeliveryId(),
      'x-hub-signature': `sha256=${hmac(SECRETS.BB_SECRET, body)}`,
    },
    body,
  };
}

export function gitea(body: Uint8Array): Delivery {
  return {
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': 'push',
      'x-gitea-delivery': newDeliveryId(),
      'x-gitea-signature': hmac(SECRETS.GT_SECRET, body),
    },
    body,
  };
}

export function post(h: Harness, hostId: string, delivery: Delivery) {
  return h.app.request(`/webhooks/${hostId}`, {
    method: 'POST',
    headers: delivery.headers,
    body: delivery.body,
  });
}
