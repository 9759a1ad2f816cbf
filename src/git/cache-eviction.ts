/**
 * Keeps a directory of cached repositories under a byte budget. Recency is each repository
 * directory's mtime (the reader touches it on every use), so it survives restarts.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface EvictedRepository {
  dir: string;
  bytes: number;
}

/** Bytes of the files under `path` (not following links); 0 when it is gone. */
export async function directoryBytes(path: string): Promise<number> {
  let total = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(path, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) total += await directoryBytes(child);
    else
      total += await lstat(child).then(
        (s) => s.size,
        () => 0,
      );
  }
  return total;
}

/**
 * Removes the least recently used `*.git` directories of `cacheDir` until the rest fit in
 * `maxBytes`. Directories in `busy` stay; if they alone exceed the budget, the cache stays over
 * it until they are released.
 */
export async function evictLeastRecentlyUsed(
  cacheDir: string,
  maxBytes: number,
  busy: ReadonlySet<string>,
): Promise<EvictedRepository[]> {
  let names: string[];
  try {
    names = (await readdir(cacheDir)).filter((name) => name.endsWith('.git'));
  } catch {
    return [];
  }
  const repositories = await Promise.all(
    names.map(async (name) => {
      const dir = join(cacheDir, name);
      const [bytes, usedAt] = await Promise.all([
        directoryBytes(dir),
        lstat(dir).then(
          (s) => s.mtimeMs,
          () => 0,
        ),
      ]);
      return { dir, bytes, usedAt };
    }),
  );
  let total = repositories.reduce((sum, repository) => sum + repository.bytes, 0);
  const evicted: EvictedRepository[] = [];
  const oldestFirst = repositories.sort((a, b) => a.usedAt - b.usedAt);
  for (const repository of oldestFirst) {
    if (total <= maxBytes) break;
    if (busy.has(repository.dir)) continue;
    await rm(repository.dir, { recursive: true, force: true });
    total -= repository.bytes;
    evicted.push({ dir: repository.dir, bytes: repository.bytes });
  }
  return evicted;
}
