/**
 * The pure parts of accepting deliveries: turning them into rows before the transaction (so a
 * plan that is not JSON is refused before anything is locked), the records of the jobs created
 * (made from what was written, not read back: decoding costs CPU on the answer's path), and the
 * error that says which delivery was not recorded.
 */
import Database from 'better-sqlite3';
import { type JobRecord, type NewDelivery, type NewJob, StoreError } from './types.js';

export interface DeliveryRows {
  delivery: NewDelivery;
  /** The delivery's plan ids as the JSON its row stores. */
  planIds: string;
  jobs: Array<{ job: NewJob; event: string; plan: string }>;
}

/** Throws `store.bad-input` naming the job whose event or plan is not a JSON object. */
export function deliveryRows(delivery: NewDelivery): DeliveryRows {
  return {
    delivery,
    planIds: JSON.stringify(delivery.jobs.map((job) => job.id)),
    jobs: delivery.jobs.map((job) => ({
      job,
      event: toJson(job.event, job.id, 'event'),
      plan: toJson(job.plan, job.id, 'plan'),
    })),
  };
}

/** The job as the insert wrote it: at step start, due at once, nothing tried yet. */
export function createdJob(delivery: NewDelivery, job: NewJob): JobRecord {
  const at = delivery.receivedAt;
  return {
    id: job.id,
    hostId: delivery.hostId,
    deliveryId: delivery.deliveryId,
    repo: job.repo,
    ref: job.ref,
    sha: job.sha,
    ruleName: job.ruleName,
    projectName: job.projectName,
    statusContext: job.statusContext,
    event: job.event,
    // Checked to be a JSON object by deliveryRows.
    plan: job.plan as Record<string, unknown>,
    step: 'start',
    buildId: null,
    buildArn: null,
    buildUrl: null,
    finalState: null,
    finalDescription: null,
    attempts: 0,
    nextAttemptAt: at,
    lastError: null,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * The error for a batch that was rolled back. A constraint names the delivery being written
 * (`store.bad-input`: its own data, retrying it alone fails again); anything else is the store
 * failing to write (`store.write-failed`: the same batch may succeed later).
 */
export function notRecorded(
  error: unknown,
  deliveries: readonly NewDelivery[],
  failedAt: number,
): unknown {
  if (error instanceof StoreError || !(error instanceof Database.SqliteError)) return error;
  const count = deliveries.length;
  if (error.code.startsWith('SQLITE_CONSTRAINT')) {
    const delivery = deliveries[Math.min(failedAt, count - 1)]!;
    const others = count > 1 ? ` (nor were the ${count - 1} others written with it)` : '';
    return new StoreError(
      'store.bad-input',
      `Delivery ${delivery.deliveryId} from ${delivery.hostId} was not recorded${others}: ${error.message}`,
      { cause: error },
    );
  }
  const first = deliveries[0]!;
  const which =
    count > 1
      ? `${count} deliveries (${first.deliveryId} from ${first.hostId} and ${count - 1} more) were`
      : `Delivery ${first.deliveryId} from ${first.hostId} was`;
  return new StoreError(
    'store.write-failed',
    `${which} not recorded: ${error.message}; check the disk of the data directory (free space, I/O errors) and that no other process holds the store locked.`,
    { cause: error },
  );
}

function toJson(value: object, jobId: string, column: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new StoreError('store.bad-input', `Job ${jobId}: its ${column} is not JSON: ${error}`, {
      cause: error,
    });
  }
  if (text === undefined || !text.startsWith('{')) {
    throw new StoreError('store.bad-input', `Job ${jobId}: its ${column} must be a JSON object.`);
  }
  return text;
}
