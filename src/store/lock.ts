/**
 * One process per data directory: a second local CodeBuild would take the first one's running
 * builds for leftovers of a crash and fail them; a second server would take the first one's
 * claimed jobs for a dead worker's. The lock file holds the owner's pid; a lock whose process is
 * gone (kill -9) is stale and taken over, which is what lets a restart resume at once.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CodebuildRunError } from '../errors.js';

export class DataDirInUseError extends CodebuildRunError {
  constructor(message: string) {
    super(message, 'store.data-dir-in-use');
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface DataDirOwner {
  /** Who takes it, for the error: `local CodeBuild`, `codebuild-run server`. */
  what: string;
  /** The lock file's name inside the data directory. */
  file: string;
}

const LOCAL_CODEBUILD: DataDirOwner = { what: 'local CodeBuild', file: 'local-codebuild.lock' };

/** Takes the lock for `dataDir`; the function returned gives it back. */
export function lockDataDir(
  dataDir: string,
  pid: number,
  owner: DataDirOwner = LOCAL_CODEBUILD,
): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, owner.file);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(pid));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(holder) && holder > 0 && holder !== pid && alive(holder)) {
      throw new DataDirInUseError(
        `the data directory ${dataDir} is in use by another ${owner.what} (pid ${holder}); stop it or choose another --data-dir (if no such process runs, delete ${path})`,
      );
    }
    rmSync(path, { force: true });
  }
  throw new DataDirInUseError(`cannot take the lock ${path}; delete it if no ${owner.what} runs`);
}
