/**
 * POST /webhooks/:hostId: a delivery is verified on its raw bytes, parsed, planned and written
 * durably in one transaction before the answer; the worker is then woken to start the builds.
 * Nothing slow happens before the answer: secrets are cached, the plan is pure, the write is one
 * local SQLite commit, shared with the deliveries that arrived meanwhile (accept-batcher.ts).
 */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HostConfig } from '../src/config.js';
import { driverFor } from '../src/forge/registry.js';
import type { WebhookRequest } from '../src/forge/types.js';
import type { DeliveryAcceptor } from './accept-batcher.js';
import type { AppDeps, AppEnv } from './app.js';
import { buildSummary, toNewJob, understand, webhookSecrets } from './delivery.js';
import { describeError, HttpError } from './http-error.js';

export const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024;

/** `application/json`, `application/json; charset=utf-8`, `application/vnd.x+json`. */
function isJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[\w.+-]+\+json$/.test(type);
}

function hostOf(c: Context<AppEnv>): HostConfig {
  return c.get('host') as HostConfig;
}

/** `accepts` writes each delivery durably before its answer (one transaction per batch). */
export function addWebhookRoute(app: Hono<AppEnv>, deps: AppDeps, accepts: DeliveryAcceptor): void {
  const maxSize = deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT;

  /** Everything that needs no body: draining, the host id, the content type. */
  const admit: MiddlewareHandler<AppEnv> = async (c, next) => {
    if (deps.draining?.()) {
      throw new HttpError(
        503,
        'server.shutting-down',
        'the server is shutting down and takes no more deliveries; send it again in a moment',
      );
    }
    const hostId = c.req.param('hostId') ?? '';
    const host = Object.hasOwn(deps.config.hosts, hostId) ? deps.config.hosts[hostId] : undefined;
    if (!host) {
      throw new HttpError(
        404,
        'webhook.unknown-host',
        `no host "${hostId.slice(0, 64)}" is configured: the webhook URL is /webhooks/<id> with an id from the hosts of the config`,
      );
    }
    c.set('hostId', hostId);
    c.set('host', host);
    const contentType = c.req.header('content-type');
    if (!isJson(contentType)) {
      const displayName = driverFor(host.kind).displayName;
      throw new HttpError(
        415,
        'webhook.unsupported-media-type',
        `${displayName} deliveries are JSON, but this one is ${contentType ? `"${contentType.slice(0, 100)}"` : 'of no content type'}: set the webhook's content type to application/json`,
      );
    }
    await next();
  };

  const tooLarge = () =>
    new HttpError(
      413,
      'webhook.body-too-large',
      `the delivery is larger than ${maxSize} bytes, the server's limit: raise it with --body-limit if such pushes are expected`,
    );
  const streamedLimit = bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge();
    },
  });
  /**
   * hono's bodyLimit, with its Content-Length check done first here: a declared length is known
   * before any byte is read (Node's parser delivers no more than it says), and bodyLimit would
   * first touch the raw body, which makes @hono/node-server build a full web Request and stream
   * for it: 0.4 ms of CPU per delivery, a quarter of the server's, in bench/webhooks.ts. A body
   * without a length (chunked) goes through bodyLimit, which stops reading at the limit.
   */
  const limit: MiddlewareHandler<AppEnv> = async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) {
      return streamedLimit(c, next);
    }
    if (!/^\d+$/.test(declared.trim())) {
      throw new HttpError(
        400,
        'http.bad-content-length',
        'the Content-Length header is not a number',
      );
    }
    if (Number(declared) > maxSize) throw tooLarge();
    await next();
  };

  app.post('/webhooks/:hostId', admit, limit, async (c) => {
    const hostId = c.get('hostId') as string;
    const host = hostOf(c);
    const log = c.get('log');
    const body = new Uint8Array(await c.req.arrayBuffer());
    // bodyLimit trusts a Content-Length it was given; the bytes read are what counts.
    if (body.byteLength > maxSize) throw tooLarge();
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const request: WebhookRequest = { headers, body };
    const driver = driverFor(host.kind);
    driver.verify(request, await webhookSecrets(deps.secrets, host, log));
    const understood = understand(deps.config, hostId, driver, request);
    if (understood.kind === 'ignored') {
      c.set('outcome', 'ignored');
      return c.json({ status: 'ignored', event: understood.eventName, reason: understood.reason });
    }

    const { deliveryId, planned, skipped } = understood;
    c.set('deliveryId', deliveryId);
    const skippedReason = skipped.map((s) => s.reason).join('; ');
    const accepted = await accepts.accept({
      hostId,
      deliveryId,
      receivedAt: deps.clock.now(),
      outcome: planned.length > 0 ? 'planned' : 'skipped',
      reason: planned.length > 0 ? null : skippedReason,
      jobs: planned.map(toNewJob),
    });
    if (accepted.duplicateDelivery) {
      c.set('outcome', 'duplicate');
      return c.json({
        status: 'duplicate',
        deliveryId,
        reason: `delivery ${deliveryId} was already received; nothing more is started`,
      });
    }
    deps.crash?.('after-accept');
    if (accepted.created.length > 0) {
      try {
        deps.worker.wake();
      } catch (error) {
        // The jobs are durable: the worker's next round finds them anyway.
        log.error({ err: describeError(error) }, 'waking the worker failed');
      }
    }

    const created = new Set(accepted.created.map((job) => job.id));
    const builds = planned.filter((p) => created.has(p.build.planId)).map(buildSummary);
    const duplicates = planned.filter((p) => !created.has(p.build.planId)).map(buildSummary);
    if (builds.length > 0) {
      c.set('outcome', 'accepted');
      return c.json({ status: 'accepted', deliveryId, builds, duplicates, skipped }, 202);
    }
    if (planned.length === 0) {
      c.set('outcome', 'ignored');
      return c.json({ status: 'ignored', deliveryId, reason: skippedReason, skipped });
    }
    c.set('outcome', 'duplicate');
    return c.json({
      status: 'duplicate',
      deliveryId,
      reason: 'every build this push plans was already planned by an earlier delivery',
      duplicates,
      skipped,
    });
  });

  app.all('/webhooks/:hostId', (c) => {
    throw new HttpError(
      405,
      'http.method-not-allowed',
      `${c.req.method} is not how deliveries arrive: git hosts POST them`,
    );
  });
}
