/**
 * The webhook server's durable state: deliveries it accepted and the builds ("jobs") it planned,
 * each carried by the worker through its steps. SQLite is the default backend (sqlite.ts); the
 * interface is small and free of SQL so another backend (DynamoDB) can implement it.
 *
 * Secrets are never stored: a job's event and plan hold references to secrets (names, ARNs),
 * never their values, and callers never put raw webhook bodies or headers in here.
 */
import { CodebuildRunError } from '../errors.js';
import type { CommitState, PushEvent } from '../forge/types.js';

/**
 * Where a job is. The worker does the step's work, then `advance`s:
 * - `start`: StartBuild (idempotency token from the plan), record build id/arn/url → `post-pending`;
 *   could not start → `post-final` with finalState `error`; superseded before starting →
 *   `post-final` with `canceled`.
 * - `post-pending`: post the pending/running status → `watch` (or `post-final` if already final).
 * - `watch`: until the build is final → `post-final` with the final state, reason and link.
 * - `stop`: superseded by a newer push: StopBuild → `post-final` (finalState `canceled`).
 * - `post-final`: post the final status exactly once → `done`.
 */
export type JobStep = 'start' | 'post-pending' | 'watch' | 'stop' | 'post-final' | 'done';
export const JOB_STEPS: readonly JobStep[] = [
  'start',
  'post-pending',
  'watch',
  'stop',
  'post-final',
  'done',
];

/** The steps each step may advance to; anything else is a bug and throws `store.bad-transition`. */
export const NEXT_STEPS: Readonly<Record<JobStep, readonly JobStep[]>> = {
  start: ['post-pending', 'post-final'],
  'post-pending': ['watch', 'stop', 'post-final'],
  watch: ['post-final', 'stop'],
  stop: ['post-final'],
  'post-final': ['done'],
  done: [],
};

/** The steps at which a newer push to the same branch cancels a job (see `supersededBy`). */
export const SUPERSEDABLE_STEPS: readonly JobStep[] = ['start', 'post-pending', 'watch'];

/** One planned build as the HTTP handler hands it in. All strings must be non-empty. */
export interface NewJob {
  /** The plan id: a digest of host, repo, ref, sha, project and rule, computed by the planner. */
  id: string;
  repo: string;
  ref: string;
  sha: string;
  ruleName: string;
  projectName: string;
  statusContext: string;
  /** The event the plan came from. Holds no secret (see the top of this file). */
  event: PushEvent;
  /** The planner's PlannedBuild, stored as JSON. Secret references only, never values. */
  plan: object;
}

export interface JobRecord {
  /** The plan id. */
  id: string;
  hostId: string;
  /** The delivery that created this job (a later redelivery of the same plan creates nothing). */
  deliveryId: string;
  repo: string;
  ref: string;
  sha: string;
  ruleName: string;
  projectName: string;
  statusContext: string;
  event: PushEvent;
  /** The PlannedBuild as JSON, checked to be an object; its owner validates the rest. */
  plan: Record<string, unknown>;
  step: JobStep;
  buildId: string | null;
  buildArn: string | null;
  buildUrl: string | null;
  /** Set on the way to `stop`/`post-final`: what the final commit status says. */
  finalState: CommitState | null;
  /** One line, e.g. "BUILD failed: make exited 2 after 3m12s". */
  finalDescription: string | null;
  /** Failed tries of the current step; reset to 0 by `advance`. */
  attempts: number;
  /** Epoch ms; the job is due when this is <= now. Also the end of a `claim`. */
  nextAttemptAt: number;
  /** The last failure of the current step; never holds a secret. */
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** The fields `advance` may set. Fields are set, never cleared (null/undefined keep the value). */
export type JobPatch = Partial<
  Pick<
    JobRecord,
    'buildId' | 'buildArn' | 'buildUrl' | 'finalState' | 'finalDescription' | 'nextAttemptAt'
  >
>;

export interface NewDelivery {
  hostId: string;
  deliveryId: string;
  receivedAt: number;
  /** A short word for explain/metrics: e.g. `planned`, `no-rule`, `ignored`. */
  outcome: string;
  /** One line saying why, e.g. "event 'ping' is not a push"; null when there is nothing to say. */
  reason: string | null;
  /** The planned builds; empty for ignored deliveries (they are recorded and deduped too). */
  jobs: readonly NewJob[];
}

export interface DeliveryRecord {
  hostId: string;
  deliveryId: string;
  receivedAt: number;
  outcome: string;
  reason: string | null;
  /** Every plan id this delivery asked for, in order, including ones an earlier delivery created. */
  planIds: string[];
}

export interface AcceptResult {
  /** The (hostId, deliveryId) was already recorded: nothing was written, the lists are empty. */
  duplicateDelivery: boolean;
  /**
   * Jobs this call created, in input order: the worker has work. Made from what was written, not
   * read back: `event` and `plan` are the objects handed in (stored as their JSON).
   */
  created: JobRecord[];
  /** Plan ids that already had a job (a redelivery under a new id, or the same plan twice). */
  duplicates: string[];
}

export interface StoreStats {
  jobsByStep: Record<JobStep, number>;
  deliveries: number;
  deliveriesByOutcome: Record<string, number>;
}

export interface Store {
  /**
   * One durable transaction, committed before it returns (answer 202 after it): records the
   * delivery and inserts its new jobs, due at `receivedAt`. A known (hostId, deliveryId) writes
   * nothing; a plan id that already has a job is reported in `duplicates` and not inserted.
   */
  acceptDelivery(delivery: NewDelivery): AcceptResult;
  /**
   * `acceptDelivery` for many deliveries in ONE transaction (one fsync): the results are in input
   * order, each delivery deduped as if accepted alone after the ones before it (a delivery id or
   * plan id seen earlier in the same batch is a duplicate). All or nothing: when one delivery
   * cannot be written, none is, and the error names that one. An empty batch writes nothing.
   */
  acceptDeliveries(deliveries: readonly NewDelivery[]): AcceptResult[];
  getDelivery(hostId: string, deliveryId: string): DeliveryRecord | null;
  getJob(id: string): JobRecord | null;
  findByBuildId(buildId: string): JobRecord | null;
  /** Jobs not done with nextAttemptAt <= now, longest-waiting first (nextAttemptAt, then age). */
  dueJobs(now: number, limit: number): JobRecord[];
  /**
   * Takes a due job for a while: if it is still at `step` and due, sets nextAttemptAt to `until`
   * and returns true; otherwise false and nothing changes. Two workers never both claim it, and
   * a worker killed mid-step leaves a job that is due again at `until`. A `watch` claim doubles
   * as "look again at `until`" without counting a failure.
   */
  claim(id: string, step: JobStep, now: number, until: number): boolean;
  /**
   * Makes every unfinished job due now, dropping claims and back-offs. Only for a worker that
   * knows it is the store's sole user (it holds the data directory's lock): after a crash, the
   * dead process's claims would otherwise hold its jobs back until they lapse. Returns how many.
   */
  releaseClaims(now: number): number;
  /**
   * Compare-and-set on the step: moves the job from `from` to `to` and applies `patch`, resets
   * attempts and lastError, and makes it due at `patch.nextAttemptAt ?? now`. Returns false and
   * changes nothing when the job is no longer at `from`. Throws `store.bad-transition` for a move
   * NEXT_STEPS does not allow, into `post-pending`/`watch`/`stop` without a buildId, or into
   * `stop`/`post-final` without a finalState (neither in the patch nor already recorded).
   */
  advance(id: string, from: JobStep, to: JobStep, patch: JobPatch, now: number): boolean;
  /**
   * The step failed: counts an attempt, records the error (cut to 2000 characters; never pass a
   * secret), due again at `nextAttemptAt`. False and no change when the job is not at `step`.
   */
  retryLater(id: string, step: JobStep, error: string, nextAttemptAt: number, now: number): boolean;
  /**
   * Older jobs (created before job `id`) for the same hostId, repo, ref, ruleName and projectName
   * still at a SUPERSEDABLE_STEPS step, oldest first: the worker cancels them.
   */
  supersededBy(id: string): JobRecord[];
  /** For /metrics: queue depth by step and delivery counts. */
  stats(): StoreStats;
  /**
   * Forgets done jobs last changed before `before`, then deliveries received before `before` that
   * no remaining job belongs to. A redelivery older than that window would plan again.
   */
  prune(before: number): { jobs: number; deliveries: number };
  /** For /readyz: true when the store answers a query. */
  ping(): boolean;
  /** Idempotent. */
  close(): void;
}

export type StoreErrorCode =
  | 'store.not-writable'
  | 'store.open-failed'
  | 'store.not-a-store'
  | 'store.schema-too-new'
  | 'store.migration-failed'
  | 'store.corrupt-row'
  /** This delivery's own data is refused (a CHECK, or JSON that is not an object): not retryable. */
  | 'store.bad-input'
  /** SQLite could not write (disk full, I/O error, locked): the same data may succeed later. */
  | 'store.write-failed'
  | 'store.bad-transition';

export class StoreError extends CodebuildRunError {
  declare readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, code, options);
  }
}
