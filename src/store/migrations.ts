/**
 * The SQLite schema, as a list of migrations. `PRAGMA user_version` is the number of migrations a
 * file has had; `PRAGMA application_id` marks the file as ours so we never write into someone
 * else's database. Append new migrations; never edit one that has shipped.
 */
import type Database from 'better-sqlite3';
import { COMMIT_STATES } from '../forge/types.js';
import { JOB_STEPS, StoreError } from './types.js';

/** "CBR1" in ASCII. */
export const STORE_APPLICATION_ID = 0x43425231;

export interface Migration {
  description: string;
  /** Runs inside the migration's transaction; foreign keys stay on. */
  sql: string;
}

const quoted = (words: readonly string[]) => words.map((word) => `'${word}'`).join(', ');

export const MIGRATIONS: readonly Migration[] = [
  {
    description: 'deliveries and jobs',
    sql: `
      CREATE TABLE deliveries (
        host_id TEXT NOT NULL CHECK (length(host_id) > 0),
        delivery_id TEXT NOT NULL CHECK (length(delivery_id) > 0),
        received_at INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK (length(outcome) > 0),
        reason TEXT,
        plan_ids TEXT NOT NULL,
        PRIMARY KEY (host_id, delivery_id)
      );
      CREATE INDEX deliveries_received ON deliveries (received_at);

      CREATE TABLE jobs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE CHECK (length(id) > 0),
        host_id TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        repo TEXT NOT NULL CHECK (length(repo) > 0),
        ref TEXT NOT NULL CHECK (length(ref) > 0),
        sha TEXT NOT NULL CHECK (length(sha) > 0),
        rule_name TEXT NOT NULL CHECK (length(rule_name) > 0),
        project_name TEXT NOT NULL CHECK (length(project_name) > 0),
        status_context TEXT NOT NULL CHECK (length(status_context) > 0),
        event TEXT NOT NULL,
        plan TEXT NOT NULL,
        step TEXT NOT NULL CHECK (step IN (${quoted(JOB_STEPS)})),
        build_id TEXT,
        build_arn TEXT,
        build_url TEXT,
        final_state TEXT CHECK (final_state IS NULL OR final_state IN (${quoted(COMMIT_STATES)})),
        final_description TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        FOREIGN KEY (host_id, delivery_id) REFERENCES deliveries (host_id, delivery_id),
        -- A build exists from post-pending on (except for a job canceled before it started),
        -- and the state to post is known before stopping or posting it.
        CHECK (step NOT IN ('post-pending', 'watch', 'stop') OR build_id IS NOT NULL),
        CHECK (step NOT IN ('stop', 'post-final', 'done') OR final_state IS NOT NULL)
      );
      CREATE INDEX jobs_due ON jobs (next_attempt_at, seq) WHERE step <> 'done';
      CREATE INDEX jobs_branch ON jobs (host_id, repo, ref, rule_name, project_name, seq);
      CREATE INDEX jobs_build ON jobs (build_id) WHERE build_id IS NOT NULL;
      CREATE INDEX jobs_delivery ON jobs (host_id, delivery_id);
      CREATE INDEX jobs_done ON jobs (updated_at) WHERE step = 'done';
    `,
  },
];

function pragmaNumber(db: Database.Database, name: string): number {
  return Number(db.pragma(name, { simple: true }));
}

/**
 * Refuses a file that is not ours or is newer than `migrations`, then applies the missing
 * migrations, each in its own IMMEDIATE transaction (a second process opening the same file
 * waits, then sees the new version and skips it). A failed migration leaves the file as it was.
 */
export function migrate(
  db: Database.Database,
  path: string,
  migrations: readonly Migration[] = MIGRATIONS,
): void {
  const applicationId = pragmaNumber(db, 'application_id');
  const version = pragmaNumber(db, 'user_version');
  const tables = db
    .prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'")
    .get() as {
    n: number;
  };
  const foreign =
    applicationId !== 0 ? applicationId !== STORE_APPLICATION_ID : version !== 0 || tables.n > 0;
  if (foreign) {
    throw new StoreError(
      'store.not-a-store',
      `${path} is a SQLite database that codebuild-run did not create (application_id ${applicationId}, user_version ${version}): point the store at a file of its own in the data directory.`,
    );
  }
  if (version > migrations.length) {
    throw new StoreError(
      'store.schema-too-new',
      `${path} has store schema version ${version}, but this codebuild-run knows versions up to ${migrations.length}: it was written by a newer codebuild-run. Run that version (or newer), or point this one at another data directory.`,
    );
  }
  for (let next = version; next < migrations.length; next++) {
    const migration = migrations[next]!;
    db.transaction(() => {
      // Another process may have migrated while we waited for the write lock.
      if (pragmaNumber(db, 'user_version') !== next) return;
      try {
        db.exec(migration.sql);
      } catch (error) {
        throw new StoreError(
          'store.migration-failed',
          `${path}: store migration ${next + 1} (${migration.description}) failed, the file is unchanged: ${(error as Error).message}`,
          { cause: error },
        );
      }
      db.pragma(`application_id = ${STORE_APPLICATION_ID}`);
      db.pragma(`user_version = ${next + 1}`);
    }).immediate();
  }
}
