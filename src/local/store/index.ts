/**
 * The local CodeBuild's durable state: one SQLite file in the data directory. WAL mode keeps each
 * statement atomic across a kill -9 and lets readers run while builds append log lines.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { lockDataDir } from '../../store/lock.js';
import { LogRecords } from './logs.js';
import {
  BatchRecords,
  BuildRecords,
  IdempotencyRecords,
  ParameterRecords,
  ProjectRecords,
} from './records.js';
import { SecretRecords } from './secrets.js';

export { DataDirInUseError } from '../../store/lock.js';
export type { LogEventRow, LogWindow } from './logs.js';
export type { IdempotencyEntry, SortOrder } from './records.js';
export type * from './types.js';

export interface LocalStore {
  projects: ProjectRecords;
  builds: BuildRecords;
  batches: BatchRecords;
  idempotency: IdempotencyRecords;
  parameters: ParameterRecords;
  logs: LogRecords;
  secrets: SecretRecords;
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS projects (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS builds (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, number INTEGER NOT NULL,
  complete INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS builds_by_project ON builds (project, number);
CREATE INDEX IF NOT EXISTS builds_incomplete ON builds (complete);
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY, project TEXT NOT NULL, number INTEGER NOT NULL,
  complete INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS batches_by_project ON batches (project, number);
CREATE TABLE IF NOT EXISTS idempotency (
  scope TEXT NOT NULL, token TEXT NOT NULL, fingerprint TEXT NOT NULL,
  result_id TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (scope, token));
CREATE TABLE IF NOT EXISTS parameters (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log_streams (
  grp TEXT NOT NULL, stream TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (grp, stream));
CREATE TABLE IF NOT EXISTS log_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, grp TEXT NOT NULL, stream TEXT NOT NULL,
  ts INTEGER NOT NULL, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS log_events_by_stream ON log_events (grp, stream, id);
CREATE TABLE IF NOT EXISTS secrets (
  name TEXT PRIMARY KEY, arn TEXT NOT NULL UNIQUE, description TEXT, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS secret_versions (
  name TEXT NOT NULL, version_id TEXT NOT NULL, value_string TEXT, value_binary TEXT,
  stages TEXT NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (name, version_id));
`;

/** Opens (creating if needed) the store in `dataDir`, which no other process may have open. */
export function openLocalStore(dataDir: string): LocalStore {
  mkdirSync(dataDir, { recursive: true });
  const unlock = lockDataDir(dataDir, process.pid);
  let db: Database | undefined;
  try {
    db = new BetterSqlite3(join(dataDir, 'local-codebuild.sqlite'));
    db.pragma('journal_mode = WAL');
    // NORMAL loses nothing when the process dies, only on a power cut; log appends stay cheap.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
  } catch (error) {
    db?.close();
    unlock();
    throw error;
  }
  const open = db;
  return {
    projects: new ProjectRecords(open),
    builds: new BuildRecords(open),
    batches: new BatchRecords(open),
    idempotency: new IdempotencyRecords(open),
    parameters: new ParameterRecords(open),
    logs: new LogRecords(open),
    secrets: new SecretRecords(open),
    close: () => {
      open.close();
      unlock();
    },
  };
}
