/**
 * SQLite rows to records, checked on the way out: a row edited by hand or damaged on disk fails
 * with an error naming the job or delivery instead of reaching the worker half-valid.
 */
import { COMMIT_STATES, type CommitState, type PushEvent } from '../forge/types.js';
import {
  type DeliveryRecord,
  JOB_STEPS,
  type JobRecord,
  type JobStep,
  StoreError,
} from './types.js';

export interface JobRow {
  id: string;
  host_id: string;
  delivery_id: string;
  repo: string;
  ref: string;
  sha: string;
  rule_name: string;
  project_name: string;
  status_context: string;
  event: string;
  plan: string;
  step: string;
  build_id: string | null;
  build_arn: string | null;
  build_url: string | null;
  final_state: string | null;
  final_description: string | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

function corrupt(what: string, detail: string): StoreError {
  return new StoreError(
    'store.corrupt-row',
    `The store's ${what} is corrupt: ${detail}. Repair or delete that row (sqlite3 <data dir>/<store file>).`,
  );
}

function parseObject(text: unknown, what: string, column: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(String(text));
  } catch (error) {
    throw corrupt(what, `column ${column} is not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw corrupt(what, `column ${column} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** The fields of a PushEvent that a job cannot do without; the rest is the writer's typed data. */
function checkEvent(event: Record<string, unknown>, what: string): PushEvent {
  const repo = event.repo as Record<string, unknown> | null | undefined;
  const ok =
    isString(event.host) &&
    isString(event.deliveryId) &&
    isString(event.ref) &&
    isString(event.sha) &&
    typeof repo === 'object' &&
    repo !== null &&
    isString(repo.fullName) &&
    isString(repo.cloneUrl);
  if (!ok) throw corrupt(what, 'column event is not a push event with host, ref, sha and repo');
  return event as unknown as PushEvent;
}

export function decodeJob(row: JobRow): JobRecord {
  const what = `job ${row.id}`;
  if (!(JOB_STEPS as readonly string[]).includes(row.step)) {
    throw corrupt(what, `step "${row.step}" is not one of ${JOB_STEPS.join(', ')}`);
  }
  if (row.final_state !== null && !(COMMIT_STATES as readonly string[]).includes(row.final_state)) {
    throw corrupt(what, `final_state "${row.final_state}" is not a commit state`);
  }
  return {
    id: row.id,
    hostId: row.host_id,
    deliveryId: row.delivery_id,
    repo: row.repo,
    ref: row.ref,
    sha: row.sha,
    ruleName: row.rule_name,
    projectName: row.project_name,
    statusContext: row.status_context,
    event: checkEvent(parseObject(row.event, what, 'event'), what),
    plan: parseObject(row.plan, what, 'plan'),
    step: row.step as JobStep,
    buildId: row.build_id,
    buildArn: row.build_arn,
    buildUrl: row.build_url,
    finalState: row.final_state as CommitState | null,
    finalDescription: row.final_description,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function decodeDelivery(row: Record<string, unknown>): DeliveryRecord {
  const what = `delivery ${String(row.delivery_id)} from ${String(row.host_id)}`;
  let planIds: unknown;
  try {
    planIds = JSON.parse(String(row.plan_ids));
  } catch {
    planIds = undefined;
  }
  if (!Array.isArray(planIds) || !planIds.every(isString)) {
    throw corrupt(what, 'column plan_ids is not a JSON array of plan ids');
  }
  return {
    hostId: row.host_id as string,
    deliveryId: row.delivery_id as string,
    receivedAt: row.received_at as number,
    outcome: row.outcome as string,
    reason: row.reason as string | null,
    planIds,
  };
}
