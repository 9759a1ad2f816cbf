/**
 * The SQLite Store (better-sqlite3, synchronous). WAL with synchronous=FULL: a transaction that
 * returned is on disk and survives kill -9 and power loss. One connection, statements prepared once.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createdJob, type DeliveryRows, deliveryRows, notRecorded } from './accept.js';
import { migrate } from './migrations.js';
import { decodeDelivery, decodeJob, type JobRow } from './rows.js';
import { prepareStatements } from './statements.js';
import {
  type AcceptResult,
  type DeliveryRecord,
  JOB_STEPS,
  type JobPatch,
  type JobRecord,
  type JobStep,
  NEXT_STEPS,
  type NewDelivery,
  type Store,
  StoreError,
  type StoreStats,
} from './types.js';

export interface SqliteStoreOptions {
  /** The database file, e.g. `<data dir>/codebuild-run.sqlite`; `:memory:` for a throwaway. */
  path: string;
  /** How long a write waits for another process holding the lock; default 5000 ms. */
  busyTimeoutMs?: number;
}

/** Opens (creating the file and its directory when missing) and migrates the store. */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  const { path } = options;
  if (path !== ':memory:') ensureWritableDirectory(dirname(resolve(path)));
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (error) {
    throw openFailed(path, error);
  }
  try {
    // Per-connection settings first; none of them writes to the file.
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Refuses a foreign or newer file before anything is written to it.
    migrate(db, path);
    // WAL is a property of the file; with synchronous=FULL every commit is fsynced.
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (path !== ':memory:' && mode !== 'wal') {
      throw new StoreError('store.open-failed', `${path}: SQLite refused WAL mode (got ${mode}).`);
    }
    return new SqliteStore(db);
  } catch (error) {
    db.close();
    throw error instanceof StoreError ? error : openFailed(path, error);
  }
}

function ensureWritableDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (error) {
    throw new StoreError(
      'store.not-writable',
      `The data directory ${dir} cannot be created or written (${(error as Error).message}): create it writable by this user, or choose another data directory.`,
      { cause: error },
    );
  }
}

function openFailed(path: string, error: unknown): StoreError {
  const message = (error as Error).message;
  const hint = /not a database/i.test(message)
    ? 'the file is not a SQLite database: move it away or choose another path'
    : 'check that the file and its directory are readable and writable';
  return new StoreError(
    'store.open-failed',
    `Cannot open the store ${path}: ${message}; ${hint}.`,
    {
      cause: error,
    },
  );
}

/** The steps the schema's CHECKs require a build id / a final state at. */
const BUILD_STEPS: readonly JobStep[] = ['post-pending', 'watch', 'stop'];
const FINAL_STEPS: readonly JobStep[] = ['stop', 'post-final', 'done'];
const MAX_ERROR_LENGTH = 2000;

class SqliteStore implements Store {
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly acceptTransaction;
  private readonly pruneTransaction;

  constructor(private readonly db: Database.Database) {
    this.statements = prepareStatements(db);
    this.acceptTransaction = db.transaction(
      (batch: readonly DeliveryRows[], progress: { at: number }): AcceptResult[] => {
        const results: AcceptResult[] = [];
        for (const rows of batch) {
          results.push(this.insert(rows));
          progress.at++;
        }
        return results;
      },
    );
    this.pruneTransaction = db.transaction((before: number) => ({
      jobs: this.statements.pruneJobs.run(before).changes,
      deliveries: this.statements.pruneDeliveries.run(before).changes,
    }));
  }

  acceptDelivery(delivery: NewDelivery): AcceptResult {
    return this.acceptDeliveries([delivery])[0]!;
  }

  acceptDeliveries(deliveries: readonly NewDelivery[]): AcceptResult[] {
    if (deliveries.length === 0) return [];
    const rows = deliveries.map(deliveryRows);
    const progress = { at: 0 };
    try {
      return this.acceptTransaction.immediate(rows, progress);
    } catch (error) {
      throw notRecorded(error, deliveries, progress.at);
    }
  }

  /**
   * Runs inside the IMMEDIATE transaction: any throw rolls every delivery of the batch back. The
   * transaction sees its own writes, so a delivery or plan id written earlier in the batch is a
   * duplicate here exactly as if it had been committed before.
   */
  private insert({ delivery, planIds, jobs }: DeliveryRows): AcceptResult {
    const { hostId, deliveryId, receivedAt } = delivery;
    const recorded = this.statements.insertDelivery.run({
      hostId,
      deliveryId,
      receivedAt,
      outcome: delivery.outcome,
      reason: delivery.reason ?? null,
      planIds,
    });
    if (recorded.changes === 0) return { duplicateDelivery: true, created: [], duplicates: [] };
    const created: JobRecord[] = [];
    const duplicates: string[] = [];
    for (const { job, event, plan } of jobs) {
      const inserted = this.statements.insertJob.run({
        id: job.id,
        hostId,
        deliveryId,
        repo: job.repo,
        ref: job.ref,
        sha: job.sha,
        ruleName: job.ruleName,
        projectName: job.projectName,
        statusContext: job.statusContext,
        event,
        plan,
        now: receivedAt,
      });
      if (inserted.changes === 0) duplicates.push(job.id);
      else created.push(createdJob(delivery, job));
    }
    return { duplicateDelivery: false, created, duplicates };
  }

  getDelivery(hostId: string, deliveryId: string): DeliveryRecord | null {
    const row = this.statements.getDelivery.get(hostId, deliveryId);
    return row === undefined ? null : decodeDelivery(row as Record<string, unknown>);
  }

  getJob(id: string): JobRecord | null {
    const row = this.statements.getJob.get(id) as JobRow | undefined;
    return row === undefined ? null : decodeJob(row);
  }

  findByBuildId(buildId: string): JobRecord | null {
    const row = this.statements.findByBuildId.get(buildId) as JobRow | undefined;
    return row === undefined ? null : decodeJob(row);
  }

  dueJobs(now: number, limit: number): JobRecord[] {
    return (this.statements.dueJobs.all(now, limit) as JobRow[]).map(decodeJob);
  }

  releaseClaims(now: number): number {
    return this.statements.releaseClaims.run(now, now).changes;
  }

  claim(id: string, step: JobStep, now: number, until: number): boolean {
    return this.statements.claim.run({ id, step, now, until }).changes === 1;
  }

  advance(id: string, from: JobStep, to: JobStep, patch: JobPatch, now: number): boolean {
    if (!NEXT_STEPS[from].includes(to)) {
      throw new StoreError(
        'store.bad-transition',
        `Job ${id}: a job at step ${from} cannot advance to ${to} (allowed: ${NEXT_STEPS[from].join(', ') || 'none'}).`,
      );
    }
    try {
      const result = this.statements.advance.run({
        id,
        from,
        to,
        buildId: patch.buildId ?? null,
        buildArn: patch.buildArn ?? null,
        buildUrl: patch.buildUrl ?? null,
        finalState: patch.finalState ?? null,
        finalDescription: patch.finalDescription ?? null,
        nextAttemptAt: patch.nextAttemptAt ?? now,
        now,
      });
      return result.changes === 1;
    } catch (error) {
      if (!(error instanceof Database.SqliteError) || !/CHECK constraint/.test(error.message)) {
        throw error;
      }
      const needs = [
        ...(BUILD_STEPS.includes(to) ? ['a buildId'] : []),
        ...(FINAL_STEPS.includes(to) ? ['a finalState'] : []),
      ];
      throw new StoreError(
        'store.bad-transition',
        `Job ${id}: advancing from ${from} to ${to} needs ${needs.join(' and ')}, and neither the patch nor the job has it.`,
        { cause: error },
      );
    }
  }

  retryLater(
    id: string,
    step: JobStep,
    error: string,
    nextAttemptAt: number,
    now: number,
  ): boolean {
    // A long stack or response body is cut: the error is for an operator's one glance.
    const lastError =
      error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH)}…` : error;
    const params = { id, step, error: lastError, nextAttemptAt, now };
    return this.statements.retryLater.run(params).changes === 1;
  }

  supersededBy(id: string): JobRecord[] {
    return (this.statements.supersededBy.all(id) as JobRow[]).map(decodeJob);
  }

  stats(): StoreStats {
    const jobsByStep = Object.fromEntries(JOB_STEPS.map((step) => [step, 0])) as Record<
      JobStep,
      number
    >;
    for (const row of this.statements.jobsByStep.all() as { step: JobStep; n: number }[]) {
      jobsByStep[row.step] = row.n;
    }
    const deliveriesByOutcome: Record<string, number> = {};
    let deliveries = 0;
    for (const row of this.statements.deliveriesByOutcome.all() as {
      outcome: string;
      n: number;
    }[]) {
      deliveriesByOutcome[row.outcome] = row.n;
      deliveries += row.n;
    }
    return { jobsByStep, deliveries, deliveriesByOutcome };
  }

  prune(before: number): { jobs: number; deliveries: number } {
    return this.pruneTransaction.immediate(before);
  }

  ping(): boolean {
    try {
      return (this.statements.ping.get() as { ok: number }).ok === 1;
    } catch {
      return false;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
