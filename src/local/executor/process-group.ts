/**
 * Ending a build's process group: SIGTERM, a grace period, then SIGKILL. A group counts as ended
 * when only zombies are left in it: orphans wait for the init process to reap them, and some
 * init processes (containers, micro-VMs) reap slowly.
 */
import { readdir, readFile } from 'node:fs/promises';

const POLL_MS = 25;

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone already.
  }
}

export async function groupAlive(pgid: number): Promise<boolean> {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const members = await liveMembers(pgid);
  return members === null || members > 0;
}

/** SIGTERM now, SIGKILL to whatever still runs after `graceMs`. */
export async function endGroup(pgid: number, graceMs: number): Promise<void> {
  if (!(await groupAlive(pgid))) return;
  signalGroup(pgid, 'SIGTERM');
  // Real elapsed time: looking through /proc takes a while on a busy machine.
  const deadline = performance.now() + graceMs;
  while (performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!(await groupAlive(pgid))) return;
  }
  signalGroup(pgid, 'SIGKILL');
}

/** Members of the group that are not zombies, from /proc; null where /proc cannot tell. */
async function liveMembers(pgid: number): Promise<number | null> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return null;
  }
  const stats = await Promise.all(
    entries
      .filter((entry) => /^\d+$/.test(entry))
      .map((entry) => readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null)),
  );
  return stats.filter((stat) => {
    if (!stat) return false;
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[2]) === pgid && fields[0] !== 'Z';
  }).length;
}
