/**
 * Reads one file of a repository at one commit (the buildspec at the pushed sha) without a
 * clone: a shallow, blob-less fetch of just that commit (its trees, no file contents) into a
 * bare cache repository per remote, then the one blob git fetches on demand when it is read.
 *
 * - The Authorization header reaches git through GIT_CONFIG_* environment variables, scoped to
 *   the remote's URL: never in argv (visible in `ps`), never in a config file on disk.
 * - Reads of one remote run one at a time (git's lock files would collide); other remotes run
 *   alongside.
 * - The cache is bounded in bytes: after each read, the least recently used remotes go.
 * - Every error names the repository URL, without credentials, and what to do.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { access, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { type Clock, type Logger, systemClock } from '../deps.js';
import { evictLeastRecentlyUsed } from './cache-eviction.js';
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

export interface ReadFileArgs {
  /** HTTPS clone URL, without credentials. */
  cloneUrl: string;
  /** The full commit sha (40 or 64 hex digits). */
  sha: string;
  /** The file's path from the repository root, e.g. `buildspec.yml` or `ci/build.yml`. */
  path: string;
  /** The Authorization header's value, e.g. `Basic <base64(user:token)>` or `Bearer <token>`. */
  authHeader?: string;
}

export const DEFAULT_MAX_CACHE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_READ_TIMEOUT_MS = 60_000;
/** A file larger than this is not what this reader is for (a buildspec is at most 25,600 chars). */
const MAX_FILE_BYTES = 1024 * 1024;

/** Environment variables git reads for itself: none may leak in from the caller's environment. */
const GIT_OWN_ENV = /^(GIT_|EDITOR$|VISUAL$|PAGER$|PREFIX$|SSH_ASKPASS$)/i;

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
    const env = deps.gitEnv ?? { PATH: '/usr/local/bin:/usr/bin:/bin:/opt/homebrew/bin' };
    this.#baseEnv = Object.fromEntries(
      Object.entries(env).flatMap(([k, v]) =>
        v === undefined || GIT_OWN_ENV.test(k) ? [] : [[k, v]],
      ),
    );
  }

  /** The file's text, or null when the commit has no such file. Throws RepoReadError. */
  async readFile(args: ReadFileArgs): Promise<string | null> {
    const url = checkedUrl(args.cloneUrl);
    const fail = (message: string, code: string) => new RepoReadError(message, code, url);
    if (!/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(args.sha)) {
      throw fail(`"${args.sha}" is not a full commit sha (40 or 64 hex digits)`, 'git.bad-input');
    }
    const path = args.path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    if (path === '' || path.startsWith('/') || path.split('/').includes('..')) {
      throw fail(
        `"${args.path}" is not a path inside the repository: write it from the root, e.g. ci/buildspec.yml`,
        'git.bad-input',
      );
    }
    if (args.authHeader !== undefined && /[\r\n]/.test(args.authHeader)) {
      throw fail(`the Authorization header for ${url} contains a line break`, 'git.bad-input');
    }
    const dir = join(
      this.#cacheDir,
      `${createHash('sha256').update(url).digest('hex').slice(0, 32)}.git`,
    );
    return this.#oneAtATime(dir, async () => {
      this.#busy.add(dir);
      try {
        return await this.#read(dir, url, args.sha, path, args.authHeader);
      } finally {
        await utimes(dir, new Date(this.#clock.now()), new Date(this.#clock.now())).catch(() => {});
        this.#busy.delete(dir);
        await this.#evict();
      }
    });
  }

  async #read(
    dir: string,
    url: string,
    sha: string,
    path: string,
    authHeader?: string,
  ): Promise<string | null> {
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), this.#timeoutMs);
    const git = this.#git(dir, url, deadline.signal, authHeader);
    const started = this.#clock.now();
    const explain = (error: unknown, step: string) =>
      deadline.signal.aborted
        ? new RepoReadError(
            `reading ${path} at ${sha} from ${url} timed out after ${this.#timeoutMs / 1000} s (${step}): check that the host is reachable from here`,
            'git.timeout',
            url,
          )
        : explainGitError(error, { url, sha, path, step, authHeader });
    try {
      try {
        if (!(await exists(join(dir, 'HEAD')))) await git.raw(['init', '--bare']);
        if (!(await hasFetched(git, sha))) {
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
            'fetched commit for a file read',
          );
        }
      } catch (error) {
        // A half-done fetch leaves lock files and a partial shallow list: start clean next time.
        await rm(dir, { recursive: true, force: true });
        throw explain(error, 'fetch');
      }
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
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A git for one read. Its configuration comes from the environment only, nothing written to
   * disk: the remote (so the blobs git fetches on demand come from it too), no background gc
   * (the cache is pruned whole, by eviction), and the header. Note: simple-git waits 50 ms
   * after a command that prints nothing, so the commands here are chosen to print.
   */
  #git(dir: string, url: string, signal: AbortSignal, authHeader?: string) {
    // simple-git wants its directory to exist before it is built.
    mkdirSync(dir, { recursive: true });
    const config: Array<[string, string]> = [
      ['remote.origin.url', url],
      ['gc.auto', '0'],
      ['maintenance.auto', 'false'],
    ];
    if (authHeader !== undefined) {
      const header = /^authorization:/i.test(authHeader)
        ? authHeader
        : `Authorization: ${authHeader}`;
      config.push([`http.${url}.extraHeader`, header]);
    }
    const env: Record<string, string> = {
      ...this.#baseEnv,
      // Only what is set here configures git: no user or system config, no prompts, and paths
      // are paths (a file named `:(glob)*` is not pathspec magic).
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_LITERAL_PATHSPECS: '1',
    };
    env.GIT_CONFIG_COUNT = String(config.length);
    config.forEach(([key, value], index) => {
      env[`GIT_CONFIG_KEY_${index}`] = key;
      env[`GIT_CONFIG_VALUE_${index}`] = value;
    });
    return simpleGit({
      baseDir: dir,
      abort: signal,
      allowEnvironment: Object.keys(env).filter((k) => k.startsWith('GIT_')),
      unsafe: { allowUnsafeConfigEnvCount: true, allowUnsafeConfigPaths: true },
    }).env(env);
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

/** Each fetched commit gets a ref, which also keeps its objects from ever looking unreachable. */
function fetchedRef(sha: string): string {
  return `refs/fetched/${sha}`;
}

/**
 * Whether `sha` was fetched before, asked of the refs alone: looking the object up instead would,
 * in this partial clone, make git fetch a missing commit on demand, with its whole history.
 */
async function hasFetched(git: ReturnType<typeof simpleGit>, sha: string): Promise<boolean> {
  try {
    const ref = fetchedRef(sha);
    return (await git.raw(['for-each-ref', '--format=%(refname)', ref])).trim() === ref;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}
