/**
 * One local CodeBuild per data directory: a second one would take the first one's running builds
 * for leftovers of a crash and fail them. The lock file holds the owner's pid; a lock whose
 * process is gone (kill -9) is stale and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class DataDirInUseError extends Error {}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the lock for `dataDir`; the function returned gives it back. */
export function lockDataDir(dataDir: string, pid: number): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, 'local-codebuild.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(owner) && owner > 0 && owner !== pid && alive(owner)) {
      throw new DataDirInUseError(
        `the data directory ${dataDir} is in use by another local CodeBuild (pid ${owner}); stop it or choose another --data-dir (if no such process runs, delete ${path})`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new DataDirInUseError(`cannot take the lock ${path}; delete it if no local CodeBuild runs`);
}
