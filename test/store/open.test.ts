import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore, StoreError } from '../../src/store/index.js';
import { MIGRATIONS, type Migration, migrate } from '../../src/store/migrations.js';
import { sampleDelivery, sampleJob, tempDir } from './sample.js';

let temp: ReturnType<typeof tempDir>;

beforeEach(() => {
  temp = tempDir();
});

afterEach(() => {
  temp.remove();
});

function openError(path: string): StoreError {
  try {
    openSqliteStore({ path }).close();
  } catch (error) {
    if (error instanceof StoreError) return error;
    throw error;
  }
  throw new Error('expected a StoreError');
}

/** Runs `fn` on a plain connection to the file, as an operator with sqlite3 would. */
function raw<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

function storeWithOneJob(): void {
  const store = openSqliteStore({ path: temp.path });
  store.acceptDelivery(sampleDelivery('d1', [sampleJob('plan-a')]));
  store.close();
}

describe('opening the store', () => {
  it('creates a missing data directory', () => {
    const store = openSqliteStore({ path: join(temp.dir, 'a', 'b', 'store.sqlite') });
    expect(store.ping()).toBe(true);
    store.close();
  });

  it('names the data directory when it cannot be created', () => {
    writeFileSync(join(temp.dir, 'file'), 'not a directory');
    const error = openError(join(temp.dir, 'file', 'data', 'store.sqlite'));
    expect(error.code).toBe('store.not-writable');
    expect(error.message).toContain(`The data directory ${join(temp.dir, 'file', 'data')} cannot`);
    expect(error.message).toMatch(/choose another data directory/);
  });

  it('refuses a file that is not a SQLite database', () => {
    mkdirSync(join(temp.dir, 'data'));
    writeFileSync(temp.path, 'these are not the bytes of a database, '.repeat(50));
    const error = openError(temp.path);
    expect(error.code).toBe('store.open-failed');
    expect(error.message).toContain(temp.path);
    expect(error.message).toMatch(/not a SQLite database: move it away/);
  });

  it("refuses another program's SQLite database and leaves it alone", () => {
    mkdirSync(join(temp.dir, 'data'));
    raw(temp.path, (db) => db.exec('CREATE TABLE users (name TEXT)'));
    const error = openError(temp.path);
    expect(error.code).toBe('store.not-a-store');
    expect(error.message).toMatch(/did not create/);
    const tables = raw(temp.path, (db) => db.prepare('SELECT name FROM sqlite_schema').all());
    expect(tables).toEqual([{ name: 'users' }]);
  });

  it('migrates an empty (version 0) file', () => {
    mkdirSync(join(temp.dir, 'data'));
    raw(temp.path, (db) => db.pragma('user_version', { simple: true }));
    storeWithOneJob();
    expect(raw(temp.path, (db) => db.pragma('user_version', { simple: true }))).toBe(
      MIGRATIONS.length,
    );
  });

  it('refuses a file written by a newer codebuild-run, and does not touch it', () => {
    storeWithOneJob();
    const newer = MIGRATIONS.length + 1;
    raw(temp.path, (db) => db.pragma(`user_version = ${newer}`));
    const error = openError(temp.path);
    expect(error.code).toBe('store.schema-too-new');
    expect(error.message).toContain(
      `has store schema version ${newer}, but this codebuild-run knows versions up to ${MIGRATIONS.length}`,
    );
    expect(raw(temp.path, (db) => db.pragma('user_version', { simple: true }))).toBe(newer);
  });

  it('keeps its data across reopening at the current version', () => {
    storeWithOneJob();
    const store = openSqliteStore({ path: temp.path });
    expect(store.getJob('plan-a')?.step).toBe('start');
    store.close();
  });

  it('answers ping until closed; close twice is harmless', () => {
    const store = openSqliteStore({ path: ':memory:' });
    expect(store.ping()).toBe(true);
    store.close();
    store.close();
    expect(store.ping()).toBe(false);
  });
});

describe('migrate', () => {
  const v1: Migration = { description: 'notes', sql: 'CREATE TABLE notes (text TEXT NOT NULL)' };
  const v2: Migration = {
    description: 'note authors',
    sql: "ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'unknown'",
  };

  it('brings an older file up to date and keeps its rows', () => {
    mkdirSync(join(temp.dir, 'data'));
    raw(temp.path, (db) => {
      migrate(db, temp.path, [v1]);
      db.exec("INSERT INTO notes (text) VALUES ('kept')");
    });
    raw(temp.path, (db) => {
      migrate(db, temp.path, [v1, v2]);
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare('SELECT text, author FROM notes').all()).toEqual([
        { text: 'kept', author: 'unknown' },
      ]);
    });
  });

  it('leaves the file at its old version when a migration fails', () => {
    mkdirSync(join(temp.dir, 'data'));
    const broken: Migration = {
      description: 'half done',
      sql: 'CREATE TABLE extra (x TEXT); INSERT INTO missing VALUES (1)',
    };
    raw(temp.path, (db) => {
      migrate(db, temp.path, [v1]);
      expect(() => migrate(db, temp.path, [v1, broken])).toThrow(
        /store migration 2 \(half done\) failed, the file is unchanged: no such table: missing/,
      );
      expect(db.pragma('user_version', { simple: true })).toBe(1);
      const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all();
      expect(tables).toEqual([{ name: 'notes' }]);
    });
  });
});

describe('reading rows back', () => {
  beforeEach(storeWithOneJob);

  function readError(corrupt: string): StoreError {
    raw(temp.path, (db) => {
      db.pragma('ignore_check_constraints = ON');
      db.exec(corrupt);
    });
    const store = openSqliteStore({ path: temp.path });
    try {
      store.getJob('plan-a');
      store.getDelivery('github', 'd1');
    } catch (error) {
      if (error instanceof StoreError) return error;
      throw error;
    } finally {
      store.close();
    }
    throw new Error('expected a StoreError');
  }

  it.each([
    [
      "UPDATE jobs SET event = '{\"host\": ' WHERE id = 'plan-a'",
      /job plan-a .*event is not valid JSON/,
    ],
    [
      "UPDATE jobs SET plan = '[1, 2]' WHERE id = 'plan-a'",
      /job plan-a .*plan is not a JSON object/,
    ],
    [
      `UPDATE jobs SET event = '{"host": "github"}' WHERE id = 'plan-a'`,
      /job plan-a .*not a push event/,
    ],
    ["UPDATE jobs SET step = 'finished' WHERE id = 'plan-a'", /job plan-a .*step "finished"/],
    ["UPDATE deliveries SET plan_ids = 'plan-a'", /delivery d1 from github .*plan_ids/],
  ])('names the row and the column: %s', (corrupt, message) => {
    const error = readError(corrupt);
    expect(error.code).toBe('store.corrupt-row');
    expect(error.message).toMatch(message);
  });

  it('fails dueJobs on a corrupt row instead of skipping the job silently', () => {
    raw(temp.path, (db) => db.exec("UPDATE jobs SET event = 'x' WHERE id = 'plan-a'"));
    const store = openSqliteStore({ path: temp.path });
    try {
      expect(() => store.dueJobs(Number.MAX_SAFE_INTEGER, 10)).toThrow(/job plan-a is corrupt/);
    } finally {
      store.close();
    }
  });
});
