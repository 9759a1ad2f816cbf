import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/index.js';
import { repoRoot } from '../support/fixtures.js';
import { crashDelivery, tempDir } from './sample.js';

const WRITER = join(repoRoot, 'test', 'store', 'crash-writer.ts');
/** Deliveries a writer must have printed before it is killed. */
const PRINTED_BEFORE_KILL = 150;
/** The writer stops by itself after this many deliveries or milliseconds. */
const WRITER_MAX_COUNT = 1_000_000;
const WRITER_MAX_MS = 20_000;
const WAIT_MS = 20_000;

let temp: ReturnType<typeof tempDir>;
const children: ChildProcess[] = [];

beforeEach(() => {
  temp = tempDir();
});

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  temp.remove();
});

/**
 * Starts a writer at delivery `first`, waits until it printed PRINTED_BEFORE_KILL ids, kills it
 * with SIGKILL mid-run and returns the ids it printed.
 */
async function writeUntilKilled(first: number): Promise<string[]> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      WRITER,
      temp.path,
      String(first),
      String(WRITER_MAX_COUNT),
      String(WRITER_MAX_MS),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.push(child);
  const printed: string[] = [];
  let pending = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => {
    child.on('exit', (code, signal) => resolve(signal ?? code));
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`writer printed ${printed.length} ids in ${WAIT_MS} ms; stderr: ${stderr}`));
    }, WAIT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      printed.push(...lines);
      if (printed.length >= PRINTED_BEFORE_KILL && child.signalCode === null) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`writer exited with ${code} before it was killed; stderr: ${stderr}`));
    });
  });
  // Killed mid-run, not finished: the writer had up to a million deliveries left to go.
  expect(await exited).toBe('SIGKILL');
  return printed;
}

/** Checks every delivery in the file has exactly its jobs; returns how many deliveries it holds. */
function checkFile(printed: string[], first: number): number {
  const store = openSqliteStore({ path: temp.path });
  try {
    const stats = store.stats();
    let jobs = 0;
    for (let n = 0; n < stats.deliveries; n++) {
      const expected = crashDelivery(n);
      const delivery = store.getDelivery('github', expected.deliveryId);
      // Deliveries commit in order, so the file holds deliveries 0 … count-1 with no gap.
      expect(delivery, `delivery ${expected.deliveryId}`).not.toBeNull();
      expect(delivery?.planIds).toEqual(expected.jobs.map((job) => job.id));
      for (const job of expected.jobs) {
        const stored = store.getJob(job.id);
        expect(stored?.deliveryId, job.id).toBe(expected.deliveryId);
        expect(stored?.event).toEqual(job.event);
      }
      jobs += expected.jobs.length;
    }
    // No job of a delivery that is not in the file: nothing half-written.
    expect(stats.jobsByStep.start).toBe(jobs);
    // Every printed id is in the file; at most one more (killed between commit and print).
    const last = first + printed.length - 1;
    expect(printed).toEqual(Array.from({ length: printed.length }, (_, i) => `crash-${first + i}`));
    expect(stats.deliveries).toBeGreaterThanOrEqual(last + 1);
    expect(stats.deliveries).toBeLessThanOrEqual(last + 2);
    return stats.deliveries;
  } finally {
    store.close();
  }
}

describe('a writer killed with SIGKILL', () => {
  it('loses no accepted delivery and leaves no half-written one, twice in a row', async () => {
    const firstRound = await writeUntilKilled(0);
    const afterFirst = checkFile(firstRound, 0);

    // The reopened file takes writes again, and survives a second kill.
    const secondRound = await writeUntilKilled(afterFirst);
    checkFile(secondRound, afterFirst);

    const db = new Database(temp.path, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      db.close();
    }
  });
});
