/**
 * How one delivery is understood: its webhook secrets, verification of the raw bytes, parsing,
 * and the plan of each pushed ref. Shared by the webhook route and `codebuild-run explain`; it
 * reads secrets (cached) and nothing else: no store, no network of its own.
 */
import { createHash } from 'node:crypto';
import type { Config, HostConfig } from '../src/config.js';
import type { Logger } from '../src/deps.js';
import { WebhookPayloadError } from '../src/errors.js';
import type { ForgeDriver, PushEvent, WebhookRequest } from '../src/forge/types.js';
import { type PlannedBuild, planBuilds } from '../src/plan.js';
import type { NewJob } from '../src/store/index.js';
import { describeError } from './http-error.js';
import type { SecretResolver } from './secrets.js';

/**
 * The secrets that verify this host's deliveries: the current one, and the previous one while it
 * is being rotated. None configured gives [], and the driver then refuses every delivery. The
 * current one unreadable throws (the answer is 503, so the host retries); the previous one
 * unreadable is logged and skipped.
 */
export async function webhookSecrets(
  resolver: SecretResolver,
  host: HostConfig,
  logger: Logger,
): Promise<string[]> {
  const secrets: string[] = [];
  if (host.webhookSecret) secrets.push(await resolver.resolve(host.webhookSecret));
  if (host.previousWebhookSecret) {
    try {
      secrets.push(await resolver.resolve(host.previousWebhookSecret));
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'the previous webhook secret cannot be read');
    }
  }
  return secrets;
}

/**
 * Why `ref` cannot be a git ref (git check-ref-format's rules), or null. A signed body with such
 * a ref did not come from a git host as documented: it is refused before anything is planned.
 */
export function gitRefProblem(ref: string): string | null {
  if (ref.length > 1024) return 'is longer than 1024 characters';
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) {
    return 'holds a space, a control character or one of ~^:?*[\\';
  }
  if (ref.includes('..') || ref.includes('@{') || ref.includes('//')) {
    return 'holds "..", "@{" or "//"';
  }
  if (ref.endsWith('/') || ref.endsWith('.') || ref === '@') return 'ends with "/" or "."';
  if (ref.split('/').some((part) => part.startsWith('.') || part.endsWith('.lock'))) {
    return 'has a component starting with "." or ending with ".lock"';
  }
  return null;
}

export interface PlannedJob {
  event: PushEvent;
  build: PlannedBuild;
}

export type Understood =
  | { kind: 'ignored'; eventName: string; reason: string }
  | {
      kind: 'push';
      deliveryId: string;
      events: PushEvent[];
      planned: PlannedJob[];
      /** Refs of the delivery that start nothing, and why. */
      skipped: Array<{ ref: string; reason: string }>;
    };

/** Parses a VERIFIED delivery and plans each pushed ref. Throws WebhookPayloadError. */
export function understand(
  config: Config,
  hostId: string,
  driver: ForgeDriver,
  request: WebhookRequest,
): Understood {
  const parsed = driver.parse(request);
  if (parsed.outcome === 'ignored') {
    return { kind: 'ignored', eventName: parsed.eventName, reason: parsed.reason };
  }
  const events = parsed.events;
  const first = events[0];
  if (!first) {
    return { kind: 'ignored', eventName: 'push', reason: 'the push changed no branch or tag' };
  }
  for (const event of events) {
    const problem = gitRefProblem(event.ref);
    if (problem) {
      throw new WebhookPayloadError(
        `the ${driver.displayName} delivery names the ref ${JSON.stringify(event.ref.slice(0, 200))}, which ${problem}: no git host sends such a ref`,
      );
    }
  }
  const planned: PlannedJob[] = [];
  const skipped: Array<{ ref: string; reason: string }> = [];
  for (const event of events) {
    const plan = planBuilds(config, hostId, event);
    if ('skipped' in plan) skipped.push({ ref: event.ref, reason: plan.skipped });
    else for (const build of plan.builds) planned.push({ event, build });
  }
  return { kind: 'push', deliveryId: deliveryIdOf(events), events, planned, skipped };
}

/**
 * The id the store dedupes a whole delivery by. Drivers give each ref of a multi-ref push its
 * own id (the host's id, a separator, the ref) so the builds of two refs get distinct
 * idempotency tokens; the delivery itself is the host's id they share.
 */
function deliveryIdOf(events: readonly PushEvent[]): string {
  if (events.length === 1) return events[0]!.deliveryId;
  const bases = new Set(
    events.map((event) =>
      event.deliveryId.endsWith(event.ref)
        ? event.deliveryId.slice(0, -event.ref.length).replace(/[#:]$/, '')
        : event.deliveryId,
    ),
  );
  if (bases.size === 1) return [...bases][0]!;
  const ids = events.map((event) => event.deliveryId).sort();
  return `sha256:${createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 32)}`;
}

/** The store's row for a planned build. */
export function toNewJob({ event, build }: PlannedJob): NewJob {
  if (event.sha === null) throw new Error('a planned build always has a sha');
  return {
    id: build.planId,
    repo: event.repo.fullName,
    ref: event.ref,
    sha: event.sha,
    ruleName: build.ruleName,
    projectName: build.projectName,
    statusContext: build.statusContext,
    event,
    plan: build,
  };
}

/** How a planned build reads in answers and in explain. */
export function buildSummary({ event, build }: PlannedJob) {
  return {
    id: build.planId,
    project: build.projectName,
    context: build.statusContext,
    rule: build.ruleName,
    repo: event.repo.fullName,
    ref: event.ref,
    sha: event.sha,
  };
}
