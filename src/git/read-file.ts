/**
 * Reads one file of a repository at one commit (the buildspec at the pushed sha) without a
 * clone: a shallow, blob-less fetch of just that commit (its trees, no file contents) into a
 * bare cache repository per remote, then the one blob git fetches on demand when it is read.
 * The same fetch finds the commit an annotated tag points to (resolveCommit).
 *
 * - The Authorization header reaches git through GIT_CONFIG_* environment variables, scoped to
 *   the remote's URL: never in argv (visible in `ps`), never in a config file on disk.
 * - Reads of one remote run one at a time (git's lock files would collide); other remotes run
 *   alongside.
 * - The cache is bounded in bytes: after each read, the least recently used remotes go.
 * - Every error names the repository URL, without credentials, and what to do.
 */
import { createHash } from 'node:crypto';
import { access, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { type Clock, type Logger, systemClock } from '../deps.js';
import { evictLeastRecentlyUsed } from './cache-eviction.js';
import { baseGitEnv, cacheGit, fetchedRef, hasFetched } from './cache-git.js';
import { checkedUrl, explainGitError, RepoReadError } from './read-file-errors.js';

export { RepoReadError } from './read-file-errors.js';

export interface RepoFileReaderDeps {
  /** Where the bare cache repositories live, one directory per remote. */
  cacheDir: string;
  /** Bound on the whole cache; least recently used remotes are removed past it. Default 256 MiB. */
  maxCacheBytes?: number;
  logger: Logger;
  /** For the cache's recency. Default: the system clock. */
  clock?: Clock;
  /** Bound on one read's git work (fetch and read). Default 60 s. */
  timeoutMs?: number;
  /**
   * The environment git runs with: PATH to find it, and proxy variables (https_proxy, …) if
   * the network needs them. Entries pass process.env; git's own GIT_* variables are dropped.
   * Default: a PATH of the usual directories.
   */
  gitEnv?: Readonly<Record<string, string | undefined>>;
}

export interface ResolveCommitArgs {
  /** HTTPS clone URL, without credentials. */
  cloneUrl: string;
  /** A full object id (40 or 64 hex digits): a commit, or an annotated tag of one. */
  sha: string;
  /** The Authorization header's value, e.g. `Basic <base64(user:token)>` or `Bearer <token>`. */
  authHeader?: string;
}

export interface ReadFileArgs extends ResolveCommitArgs {
  /** The commit (or a tag of it) whose file is read. */
  sha: string;
  /** The file's path from the repository root, e.g. `buildspec.yml` or `ci/build.yml`. */
  path: string;
}

export const DEFAULT_MAX_CACHE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_READ_TIMEOUT_MS = 60_000;
/** A file larger than this is not what this reader is for (a buildspec is at most 25,600 chars). */
const MAX_FILE_BYTES = 1024 * 1024;

/** One task in a remote's cache: the object it needs, and how its errors read. */
interface CacheTask {
  sha: string;
  authHeader: string | undefined;
  /** What is being done, e.g. `reading buildspec.yml at <sha>`. */
  task: string;
  /** What the remote did not send, why that may be and the fix: "<url> did not send …". */
  missing: string;
}

export class RepoFileReader {
  readonly #cacheDir: string;
  readonly #maxCacheBytes: number;
  readonly #logger: Logger;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #baseEnv: Record<string, string>;
  /** The tail of each remote's queue of reads. */
  readonly #queues = new Map<string, Promise<void>>();
  /** Remotes being read right now: eviction leaves them alone. */
  readonly #busy = new Set<string>();

  constructor(deps: RepoFileReaderDeps) {
    this.#cacheDir = deps.cacheDir;
    this.#maxCacheBytes = deps.maxCacheBytes ?? DEFAULT_MAX_CACHE_BYTES;
    this.#logger = deps.logger;
    this.#clock = deps.clock ?? systemClock;
    this.#timeoutMs = deps.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.#baseEnv = baseGitEnv(deps.gitEnv);
  }

  /** The file's text, or null when the commit has no such file. Throws RepoReadError. */
  async readFile(args: ReadFileArgs): Promise<string | null> {
    const remote = this.#remote(args);
    const path = args.path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (path === '' || path.startsWith('/') || path.split('/').includes('..')) {
      throw new RepoReadError(
        `"${args.path}" is not a path inside the repository: write it from the root, e.g. ci/buildspec.yml`,
        'git.bad-input',
        remote.url,
      );
    }
    const { sha } = args;
    const { url } = remote;
    const task: CacheTask = {
      sha,
      authHeader: args.authHeader,
      task: `reading ${path} at ${sha}`,
      missing: `commit ${sha}: it may have been force-pushed away, or the host refuses to send a commit by its sha (then give the rule an inline buildspec or buildspec: { project: true })`,
    };
    return this.#withFetched(remote, task, async (git, explain) => {
      let entry: string;
      try {
        entry = await git.raw(['ls-tree', '-z', sha, '--', path]);
      } catch (error) {
        throw explain(error, 'ls-tree');
      }
      // `<mode> <type> <object>\t<path>\0`, and only the entry of exactly this path counts.
      const match = /^(\d+) (\w+) ([0-9a-f]+)\t([^\0]*)\0/.exec(entry);
      if (!match || match[4] !== path) return null;
      const [, , type, object] = match;
      if (type !== 'blob') {
        const what = type === 'tree' ? 'a directory' : 'a submodule';
        throw new RepoReadError(
          `${path} at ${sha} in ${url} is ${what}, not a file: name the file itself`,
          'git.not-a-file',
          url,
        );
      }
      try {
        const size = Number((await git.raw(['cat-file', '-s', object!])).trim());
        if (size > MAX_FILE_BYTES) {
          throw new RepoReadError(
            `${path} at ${sha} in ${url} is ${size} bytes, over the ${MAX_FILE_BYTES} this reads`,
            'git.too-large',
            url,
          );
        }
        return await git.raw(['cat-file', 'blob', object!]);
      } catch (error) {
        if (error instanceof RepoReadError) throw error;
        throw explain(error, 'read');
      }
    });
  }

  /**
   * The commit `sha` names: itself when it is one, the commit an annotated tag points to (through
   * tags of tags) when it is a tag. Fetched as readFile fetches, and a later readFile at the
   * commit finds it cached. Throws RepoReadError (`git.not-a-commit` for a tag of a tree or file).
   */
  async resolveCommit(args: ResolveCommitArgs): Promise<string> {
    const remote = this.#remote(args);
    const { sha } = args;
    const { url } = remote;
    const task: CacheTask = {
      sha,
      authHeader: args.authHeader,
      task: `finding the commit of ${sha}`,
      missing: `${sha}: the tag may have been moved or deleted since it was pushed; push it again`,
    };
    return this.#withFetched(remote, task, async (git, explain) => {
      let commit: string;
      try {
        commit = (await git.raw(['rev-parse', '--verify', `${sha}^{commit}`])).trim();
      } catch (error) {
        if (/Needed a single revision|expected commit type/i.test(String(error))) {
          throw new RepoReadError(
            `${sha} in ${url} is neither a commit nor a tag of one: tag a commit and push the tag again`,
            'git.not-a-commit',
            url,
          );
        }
        throw explain(error, 'rev-parse');
      }
      // Recorded as fetched, so reading a file at the commit needs no second fetch.
      if (commit !== sha) await git.raw(['update-ref', fetchedRef(commit), commit]);
      return commit;
    });
  }

  /** The remote's URL and cache directory, once the common arguments are checked. */
  #remote(args: ResolveCommitArgs): { url: string; dir: string } {
    const url = checkedUrl(args.cloneUrl);
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(args.sha)) {
      throw new RepoReadError(
        `"${args.sha}" is not a full commit sha (40 or 64 hex digits)`,
        'git.bad-input',
        url,
      );
    }
    if (args.authHeader !== undefined && /[\r\n]/.test(args.authHeader)) {
      throw new RepoReadError(
        `the Authorization header for ${url} contains a line break`,
        'git.bad-input',
        url,
      );
    }
    const name = `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.git`;
    return { url, dir: join(this.#cacheDir, name) };
  }

  /**
   * Runs `work` in the remote's cache once `sha` is fetched into it: one task per remote at a
   * time, all of it within the timeout, the cache's recency and bound kept after it.
   */
  async #withFetched<T>(
    remote: { url: string; dir: string },
    task: CacheTask,
    work: (git: SimpleGit, explain: (error: unknown, step: string) => RepoReadError) => Promise<T>,
  ): Promise<T> {
    const { url, dir } = remote;
    const { sha, authHeader } = task;
    return this.#oneAtATime(dir, async () => {
      this.#busy.add(dir);
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), this.#timeoutMs);
      try {
        const git = cacheGit(dir, url, this.#baseEnv, deadline.signal, authHeader);
        const explain = (error: unknown, step: string) =>
          deadline.signal.aborted
            ? new RepoReadError(
                `${task.task} from ${url} timed out after ${this.#timeoutMs / 1000} s (${step}): check that the host is reachable from here`,
                'git.timeout',
                url,
              )
            : explainGitError(error, { ...task, url, step });
        await this.#fetch(git, dir, url, sha, explain);
        return await work(git, explain);
      } finally {
        clearTimeout(timer);
        await utimes(dir, new Date(this.#clock.now()), new Date(this.#clock.now())).catch(() => {});
        this.#busy.delete(dir);
        await this.#evict();
      }
    });
  }

  /** Fetches `sha` (its trees, no file contents) unless an earlier task did. */
  async #fetch(
    git: SimpleGit,
    dir: string,
    url: string,
    sha: string,
    explain: (error: unknown, step: string) => RepoReadError,
  ): Promise<void> {
    const started = this.#clock.now();
    try {
      if (!(await exists(join(dir, 'HEAD')))) await git.raw(['init', '--bare']);
      if (await hasFetched(git, sha)) return;
      await git.raw([
        'fetch',
        '--no-tags',
        '--no-write-fetch-head',
        '--depth=1',
        '--filter=blob:none',
        'origin',
        `+${sha}:${fetchedRef(sha)}`,
      ]);
      this.#logger.debug(
        { repo: url, sha, ms: this.#clock.now() - started },
        'fetched into the cache',
      );
    } catch (error) {
      // A half-done fetch leaves lock files and a partial shallow list: start clean next time.
      await rm(dir, { recursive: true, force: true });
      throw explain(error, 'fetch');
    }
  }

  /** Runs `task` after every earlier task on `key` has settled. */
  async #oneAtATime<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => {},
      () => {},
    );
    this.#queues.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#queues.get(key) === tail) this.#queues.delete(key);
    }
  }

  async #evict(): Promise<void> {
    const removed = await evictLeastRecentlyUsed(this.#cacheDir, this.#maxCacheBytes, this.#busy);
    for (const entry of removed) {
      this.#logger.info({ dir: entry.dir, bytes: entry.bytes }, 'evicted a cached repository');
    }
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
