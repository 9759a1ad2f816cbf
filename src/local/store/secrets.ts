/**
 * Secrets Manager's model: a secret has versions, and staging labels (AWSCURRENT, AWSPREVIOUS,
 * custom ones) each sit on at most one version.
 */
import type { Database } from 'better-sqlite3';
import type { StoredSecret, StoredSecretVersion } from './types.js';

interface VersionRow {
  version_id: string;
  value_string: string | null;
  value_binary: string | null;
  stages: string;
  created: number;
}

export class SecretRecords {
  constructor(private readonly db: Database) {}

  /** By name, full ARN, or ARN without the random suffix, as Secrets Manager accepts. */
  find(secretId: string): StoredSecret | undefined {
    const row = this.db
      .prepare(
        `SELECT name, arn, description, created FROM secrets
         WHERE name = ? OR arn = ? OR (? LIKE 'arn:%' AND substr(arn, 1, length(arn) - 7) = ?)`,
      )
      .get(secretId, secretId, secretId, secretId) as
      | { name: string; arn: string; description: string | null; created: number }
      | undefined;
    if (!row) return undefined;
    return {
      name: row.name,
      arn: row.arn,
      created: row.created,
      ...(row.description === null ? {} : { description: row.description }),
    };
  }

  /** False when a secret of that name exists. A secret may start without a value. */
  create(secret: StoredSecret, first: StoredSecretVersion | undefined): boolean {
    return this.db.transaction(() => {
      const inserted = this.db
        .prepare(
          'INSERT OR IGNORE INTO secrets (name, arn, description, created) VALUES (?, ?, ?, ?)',
        )
        .run(secret.name, secret.arn, secret.description ?? null, secret.created);
      if (inserted.changes !== 1) return false;
      if (first) this.insertVersion(secret.name, first);
      return true;
    })();
  }

  versions(name: string): StoredSecretVersion[] {
    const rows = this.db
      .prepare('SELECT * FROM secret_versions WHERE name = ? ORDER BY created ASC')
      .all(name) as VersionRow[];
    return rows.map((row) => ({
      versionId: row.version_id,
      stages: JSON.parse(row.stages) as string[],
      created: row.created,
      ...(row.value_string === null ? {} : { secretString: row.value_string }),
      ...(row.value_binary === null ? {} : { secretBinary: row.value_binary }),
    }));
  }

  /**
   * Adds a version and moves its staging labels onto it. Moving AWSCURRENT leaves AWSPREVIOUS on
   * the version that had it, as Secrets Manager does.
   */
  addVersion(name: string, version: StoredSecretVersion): void {
    this.db.transaction(() => {
      const moving = new Set(version.stages);
      if (moving.has('AWSCURRENT')) moving.add('AWSPREVIOUS');
      for (const old of this.versions(name)) {
        let stages = old.stages.filter((stage) => !moving.has(stage));
        if (old.stages.includes('AWSCURRENT') && version.stages.includes('AWSCURRENT')) {
          stages = [...stages, 'AWSPREVIOUS'];
        }
        if (stages.length !== old.stages.length || stages.some((s, i) => s !== old.stages[i])) {
          this.db
            .prepare('UPDATE secret_versions SET stages = ? WHERE name = ? AND version_id = ?')
            .run(JSON.stringify(stages), name, old.versionId);
        }
      }
      this.insertVersion(name, version);
    })();
  }

  private insertVersion(name: string, version: StoredSecretVersion): void {
    this.db
      .prepare(
        'INSERT INTO secret_versions (name, version_id, value_string, value_binary, stages, created) VALUES (?, ?, ?, ?, ?, ?)',
      )
      .run(
        name,
        version.versionId,
        version.secretString ?? null,
        version.secretBinary ?? null,
        JSON.stringify(version.stages),
        version.created,
      );
  }
}
