/**
 * CloudWatch Logs, as much as builds need: groups, streams, and events numbered by one global
 * sequence, which is what GetLogEvents' tokens point into.
 */
import type { Database } from 'better-sqlite3';

export interface LogEventRow {
  id: number;
  timestamp: number;
  message: string;
}

export interface LogWindow {
  startTime?: number;
  endTime?: number;
  limit: number;
}

export class LogRecords {
  constructor(private readonly db: Database) {}

  createStream(group: string, stream: string, created: number): void {
    this.db
      .prepare('INSERT OR IGNORE INTO log_streams (grp, stream, created) VALUES (?, ?, ?)')
      .run(group, stream, created);
  }

  streamExists(group: string, stream: string): boolean {
    return (
      this.db
        .prepare('SELECT 1 FROM log_streams WHERE grp = ? AND stream = ?')
        .get(group, stream) !== undefined
    );
  }

  groupExists(group: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM log_streams WHERE grp = ? LIMIT 1').get(group) !== undefined
    );
  }

  append(group: string, stream: string, timestamp: number, message: string): void {
    this.db
      .prepare('INSERT INTO log_events (grp, stream, ts, message) VALUES (?, ?, ?, ?)')
      .run(group, stream, timestamp, message);
  }

  /** Events after event `afterId`, oldest first. */
  forward(group: string, stream: string, afterId: number, window: LogWindow): LogEventRow[] {
    const { clause, params } = timeClause(window);
    return this.db
      .prepare(
        `SELECT id, ts AS timestamp, message FROM log_events WHERE grp = ? AND stream = ? AND id > ? ${clause} ORDER BY id ASC LIMIT ?`,
      )
      .all(group, stream, afterId, ...params, window.limit) as LogEventRow[];
  }

  /** The last `limit` events before event `beforeId`, oldest first. */
  backward(group: string, stream: string, beforeId: number, window: LogWindow): LogEventRow[] {
    const { clause, params } = timeClause(window);
    const rows = this.db
      .prepare(
        `SELECT id, ts AS timestamp, message FROM log_events WHERE grp = ? AND stream = ? AND id < ? ${clause} ORDER BY id DESC LIMIT ?`,
      )
      .all(group, stream, beforeId, ...params, window.limit) as LogEventRow[];
    return rows.reverse();
  }

  /** The id of the newest event of any stream: a position that is "now" for every stream. */
  lastId(): number {
    const row = this.db.prepare('SELECT MAX(id) AS id FROM log_events').get() as {
      id: number | null;
    };
    return row.id ?? 0;
  }

  /** Every message of a stream, for the plain-text log page. */
  messages(group: string, stream: string): string[] {
    const rows = this.db
      .prepare('SELECT message FROM log_events WHERE grp = ? AND stream = ? ORDER BY id ASC')
      .all(group, stream) as Array<{ message: string }>;
    return rows.map((row) => row.message);
  }
}

function timeClause(window: LogWindow): { clause: string; params: number[] } {
  const parts: string[] = [];
  const params: number[] = [];
  if (window.startTime !== undefined) {
    parts.push('AND ts >= ?');
    params.push(window.startTime);
  }
  if (window.endTime !== undefined) {
    parts.push('AND ts < ?');
    params.push(window.endTime);
  }
  return { clause: parts.join(' '), params };
}
