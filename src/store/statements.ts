/** Every SQL statement the SQLite store runs, prepared once per connection and reused. */
import type Database from 'better-sqlite3';
import { SUPERSEDABLE_STEPS } from './types.js';

const JOB_COLUMN_NAMES = `id host_id delivery_id repo ref sha rule_name project_name status_context
  event plan step build_id build_arn build_url final_state final_description attempts
  next_attempt_at last_error created_at updated_at`.split(/\s+/);
const jobColumns = (table: string) => JOB_COLUMN_NAMES.map((name) => `${table}.${name}`).join(', ');
const SUPERSEDABLE = SUPERSEDABLE_STEPS.map((step) => `'${step}'`).join(', ');

export function prepareStatements(db: Database.Database) {
  const prepare = (sql: string) => db.prepare(sql);
  return {
    insertDelivery: prepare(`INSERT INTO deliveries
      (host_id, delivery_id, received_at, outcome, reason, plan_ids)
      VALUES (@hostId, @deliveryId, @receivedAt, @outcome, @reason, @planIds)
      ON CONFLICT (host_id, delivery_id) DO NOTHING`),
    insertJob: prepare(`INSERT INTO jobs (id, host_id, delivery_id, repo, ref, sha, rule_name,
      project_name, status_context, event, plan, step, attempts, next_attempt_at, created_at,
      updated_at)
      VALUES (@id, @hostId, @deliveryId, @repo, @ref, @sha, @ruleName, @projectName,
      @statusContext, @event, @plan, 'start', 0, @now, @now, @now)
      ON CONFLICT (id) DO NOTHING`),
    getDelivery: prepare(`SELECT host_id, delivery_id, received_at, outcome, reason, plan_ids
      FROM deliveries WHERE host_id = ? AND delivery_id = ?`),
    getJob: prepare(`SELECT ${jobColumns('jobs')} FROM jobs WHERE id = ?`),
    // A build id is unique in practice; the newest job wins if a hand-edited row says otherwise.
    findByBuildId: prepare(
      `SELECT ${jobColumns('jobs')} FROM jobs WHERE build_id = ? ORDER BY seq DESC LIMIT 1`,
    ),
    dueJobs: prepare(`SELECT ${jobColumns('jobs')} FROM jobs
      WHERE step <> 'done' AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?`),
    claim: prepare(`UPDATE jobs SET next_attempt_at = @until
      WHERE id = @id AND step = @step AND step <> 'done' AND next_attempt_at <= @now`),
    releaseClaims: prepare(
      "UPDATE jobs SET next_attempt_at = ? WHERE step <> 'done' AND next_attempt_at > ?",
    ),
    advance: prepare(`UPDATE jobs SET step = @to,
      build_id = coalesce(@buildId, build_id), build_arn = coalesce(@buildArn, build_arn),
      build_url = coalesce(@buildUrl, build_url), final_state = coalesce(@finalState, final_state),
      final_description = coalesce(@finalDescription, final_description),
      attempts = 0, last_error = NULL, next_attempt_at = @nextAttemptAt, updated_at = @now
      WHERE id = @id AND step = @from`),
    retryLater: prepare(`UPDATE jobs SET attempts = attempts + 1, last_error = @error,
      next_attempt_at = @nextAttemptAt, updated_at = @now
      WHERE id = @id AND step = @step AND step <> 'done'`),
    supersededBy: prepare(`SELECT ${jobColumns('old')}
      FROM jobs AS new JOIN jobs AS old
        ON old.host_id = new.host_id AND old.repo = new.repo AND old.ref = new.ref
        AND old.rule_name = new.rule_name AND old.project_name = new.project_name
        AND old.seq < new.seq
      WHERE new.id = ? AND old.step IN (${SUPERSEDABLE}) ORDER BY old.seq`),
    jobsByStep: prepare('SELECT step, count(*) AS n FROM jobs GROUP BY step'),
    deliveriesByOutcome: prepare('SELECT outcome, count(*) AS n FROM deliveries GROUP BY outcome'),
    pruneJobs: prepare("DELETE FROM jobs WHERE step = 'done' AND updated_at < ?"),
    pruneDeliveries: prepare(`DELETE FROM deliveries AS d WHERE received_at < ?
      AND NOT EXISTS (SELECT 1 FROM jobs AS j
        WHERE j.host_id = d.host_id AND j.delivery_id = d.delivery_id)`),
    ping: prepare('SELECT 1 AS ok'),
  };
}
