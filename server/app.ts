/**
 * The webhook server as a hono app: `createApp(deps)` returns it, with no socket of its own, so
 * the Node entry (main.ts), the Lambda handler (lambda.ts) and the tests (`app.request()`) serve
 * the same routes. Errors become answers in ONE place (onError, via answerFor).
 */
import { Hono } from 'hono';
import { type RequestIdVariables, requestId } from 'hono/request-id';
import type { Config, HostConfig } from '../src/config.js';
import type { Clock, Logger } from '../src/deps.js';
import type { Store } from '../src/store/index.js';
import { AcceptBatcher, type DeliveryAcceptor } from './accept-batcher.js';
import type { CrashHook } from './crash.js';
import { answerFor, describeError, HttpError } from './http-error.js';
import { ServerMetrics } from './metrics.js';
import type { SecretResolver } from './secrets.js';
import { addWebhookRoute } from './webhook.js';

export interface AppDeps {
  config: Config;
  store: Store;
  secrets: SecretResolver;
  /** Told after a delivery created jobs; the worker runs elsewhere (or not at all, in tests). */
  worker: { wake(): void };
  logger: Logger;
  clock: Clock;
  /** Shared with the worker so /metrics shows both; one is made when omitted. */
  metrics?: ServerMetrics;
  /** For /readyz: resolves when AWS answers, rejects saying why not. Omitted: not checked. */
  checkAws?: () => Promise<void>;
  /** How long /readyz waits for checkAws; default 3 s. */
  checkAwsTimeoutMs?: number;
  /** For /metrics: BatchGetBuilds calls so far, or null when this process watches no builds. */
  watcherCalls?: () => number | null;
  /** Largest delivery accepted, in bytes; default 5 MB. */
  bodyLimitBytes?: number;
  /** True once shutdown began: deliveries and /readyz answer 503. */
  draining?: () => boolean;
  /**
   * Writes each delivery before its answer. Omitted: an AcceptBatcher over `store` (group commit).
   * The process that closes the store passes its own, to flush it first.
   */
  accepts?: DeliveryAcceptor;
  /** Test-only (see crash.ts). */
  crash?: CrashHook;
}

export type AppEnv = {
  Variables: RequestIdVariables & {
    log: Logger;
    hostId?: string;
    host?: HostConfig;
    deliveryId?: string;
    outcome?: string;
    errorCode?: string;
  };
};

/** Outcome words for /metrics when the route set none (the error answers). */
const OUTCOME_BY_STATUS: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  404: 'unknown-host',
  405: 'bad-method',
  413: 'too-large',
  415: 'unsupported-media-type',
  503: 'unavailable',
};

const AWS_CHECK_TIMEOUT_MS = 3000;

function routeOf(path: string): string {
  if (path.startsWith('/webhooks/')) return '/webhooks/:hostId';
  return ['/healthz', '/readyz', '/metrics'].includes(path) ? path : 'other';
}

export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const metrics = deps.metrics ?? new ServerMetrics();

  app.use(requestId());
  // One log line and one latency sample per request; never headers, bodies or query strings.
  app.use(async (c, next) => {
    const started = performance.now();
    const log = deps.logger.child({ requestId: c.get('requestId') });
    c.set('log', log);
    await next();
    const seconds = (performance.now() - started) / 1000;
    const route = routeOf(c.req.path);
    metrics.observeRequest(route, seconds);
    const status = c.res.status;
    const hostId = c.get('hostId');
    const outcome = c.get('outcome') ?? OUTCOME_BY_STATUS[status] ?? 'error';
    if (route === '/webhooks/:hostId') metrics.delivery(hostId ?? '_unknown', outcome);
    if (route === '/metrics' || route === '/healthz') return;
    log.info(
      {
        method: c.req.method,
        path: c.req.path.slice(0, 200),
        status,
        ms: Math.round(seconds * 10_000) / 10,
        ...(hostId ? { hostId } : {}),
        ...(c.get('deliveryId') ? { deliveryId: c.get('deliveryId') } : {}),
        ...(route === '/webhooks/:hostId' ? { outcome } : {}),
        ...(c.get('errorCode') ? { error: c.get('errorCode') } : {}),
      },
      'request',
    );
  });

  app.onError((error, c) => {
    const answer = answerFor(error, c.get('requestId'));
    c.set('errorCode', answer.code);
    if (answer.internal) {
      (c.get('log') ?? deps.logger).error({ err: describeError(error) }, 'request failed');
    }
    return c.json({ error: { code: answer.code, message: answer.message } }, answer.status);
  });

  app.notFound(() => {
    throw new HttpError(
      404,
      'http.not-found',
      'no such route: deliveries go to POST /webhooks/<host id>; there are also GET /healthz, /readyz and /metrics',
    );
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    if (deps.draining?.()) {
      throw new HttpError(503, 'server.shutting-down', 'the server is shutting down');
    }
    const checks: Record<string, string> = { store: 'ok', aws: 'ok' };
    if (!deps.store.ping()) checks.store = 'the store does not answer queries';
    if (deps.checkAws) {
      try {
        await withTimeout(deps.checkAws(), deps.checkAwsTimeoutMs ?? AWS_CHECK_TIMEOUT_MS);
      } catch (error) {
        checks.aws = describeError(error).message;
      }
    } else {
      checks.aws = 'not checked';
    }
    const failing = Object.entries(checks).filter(([, v]) => v !== 'ok' && v !== 'not checked');
    if (failing.length === 0) return c.json({ status: 'ready', checks });
    const message = failing.map(([name, why]) => `${name}: ${why}`).join('; ');
    return c.json({ error: { code: 'server.not-ready', message }, checks }, 503);
  });

  app.get('/metrics', (c) =>
    c.body(
      metrics.render({
        stats: () => deps.store.stats(),
        watcherCalls: deps.watcherCalls ?? (() => null),
      }),
      200,
      { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
    ),
  );

  addWebhookRoute(app, deps, deps.accepts ?? new AcceptBatcher(deps.store));
  return app;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
