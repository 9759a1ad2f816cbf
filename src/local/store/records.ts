/**
 * Projects, builds, batches, idempotency tokens and parameters: each a JSON body beside the few
 * columns the queries need. Every write is one SQLite statement, so a kill -9 leaves either the
 * old record or the new one, never half of it.
 */
import type { Database } from 'better-sqlite3';
import type { StoredBatch, StoredBuild, StoredProject } from './types.js';

export type SortOrder = 'ASCENDING' | 'DESCENDING';

export class ProjectRecords {
  constructor(private readonly db: Database) {}

  get(name: string): StoredProject | undefined {
    const row = this.db.prepare('SELECT body FROM projects WHERE name = ?').get(name) as
      | { body: string }
      | undefined;
    return row ? (JSON.parse(row.body) as StoredProject) : undefined;
  }

  /** False when a project of that name already exists. */
  insert(project: StoredProject): boolean {
    const result = this.db
      .prepare('INSERT OR IGNORE INTO projects (name, body) VALUES (?, ?)')
      .run(project.name, JSON.stringify(project));
    return result.changes === 1;
  }

  put(project: StoredProject): void {
    this.db
      .prepare('INSERT OR REPLACE INTO projects (name, body) VALUES (?, ?)')
      .run(project.name, JSON.stringify(project));
  }

  all(): StoredProject[] {
    const rows = this.db.prepare('SELECT body FROM projects').all() as Array<{ body: string }>;
    return rows.map((row) => JSON.parse(row.body) as StoredProject);
  }
}

/** Builds and batches share one shape of table; `kind` picks which. */
abstract class RunRecords<T extends { id: string; projectName: string }> {
  constructor(
    protected readonly db: Database,
    private readonly table: 'builds' | 'batches',
  ) {}

  protected abstract numberOf(record: T): number;
  protected abstract isComplete(record: T): boolean;

  get(id: string): T | undefined {
    const row = this.db.prepare(`SELECT body FROM ${this.table} WHERE id = ?`).get(id) as
      | { body: string }
      | undefined;
    return row ? (JSON.parse(row.body) as T) : undefined;
  }

  put(record: T): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO ${this.table} (id, project, number, complete, body) VALUES (?, ?, ?, ?, ?)`,
      )
      .run(
        record.id,
        record.projectName,
        this.numberOf(record),
        this.isComplete(record) ? 1 : 0,
        JSON.stringify(record),
      );
  }

  nextNumber(project: string): number {
    const row = this.db
      .prepare(`SELECT MAX(number) AS n FROM ${this.table} WHERE project = ?`)
      .get(project) as { n: number | null };
    return (row.n ?? 0) + 1;
  }

  incomplete(): T[] {
    const rows = this.db
      .prepare(`SELECT body FROM ${this.table} WHERE complete = 0`)
      .all() as Array<{ body: string }>;
    return rows.map((row) => JSON.parse(row.body) as T);
  }

  /** Ids of a project's records by number; `after` is the last number of the previous page. */
  ids(
    project: string,
    order: SortOrder,
    after: number | undefined,
    limit: number,
  ): Array<{ id: string; number: number }> {
    const descending = order === 'DESCENDING';
    const bound = after === undefined ? '' : descending ? 'AND number < ?' : 'AND number > ?';
    const sql = `SELECT id, number FROM ${this.table} WHERE project = ? ${bound} ORDER BY number ${descending ? 'DESC' : 'ASC'} LIMIT ?`;
    const params = after === undefined ? [project, limit] : [project, after, limit];
    return this.db.prepare(sql).all(...params) as Array<{ id: string; number: number }>;
  }
}

export class BuildRecords extends RunRecords<StoredBuild> {
  constructor(db: Database) {
    super(db, 'builds');
  }
  protected numberOf(build: StoredBuild): number {
    return build.buildNumber;
  }
  protected isComplete(build: StoredBuild): boolean {
    return build.buildComplete;
  }
}

export class BatchRecords extends RunRecords<StoredBatch> {
  constructor(db: Database) {
    super(db, 'batches');
  }
  protected numberOf(batch: StoredBatch): number {
    return batch.buildBatchNumber;
  }
  protected isComplete(batch: StoredBatch): boolean {
    return batch.complete;
  }
}

export interface IdempotencyEntry {
  fingerprint: string;
  resultId: string;
  created: number;
}

/** StartBuild and StartBuildBatch tokens, each scope apart. */
export class IdempotencyRecords {
  constructor(private readonly db: Database) {}

  find(scope: string, token: string): IdempotencyEntry | undefined {
    return this.db
      .prepare(
        'SELECT fingerprint, result_id AS resultId, created FROM idempotency WHERE scope = ? AND token = ?',
      )
      .get(scope, token) as IdempotencyEntry | undefined;
  }

  put(scope: string, token: string, entry: IdempotencyEntry): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO idempotency (scope, token, fingerprint, result_id, created) VALUES (?, ?, ?, ?, ?)',
      )
      .run(scope, token, entry.fingerprint, entry.resultId, entry.created);
  }
}

/** Parameter Store values for `parameter-store` variables; set from the projects file. */
export class ParameterRecords {
  constructor(private readonly db: Database) {}

  get(name: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM parameters WHERE name = ?').get(name) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  put(name: string, value: string): void {
    this.db
      .prepare('INSERT OR REPLACE INTO parameters (name, value) VALUES (?, ?)')
      .run(name, value);
  }
}
