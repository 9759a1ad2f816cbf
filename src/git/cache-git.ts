/**
 * The git commands of the repository cache: how one is built (configured from its environment
 * only, nothing on disk) and the refs that mark what was fetched.
 */
import { mkdirSync } from 'node:fs';
import { type SimpleGit, simpleGit } from 'simple-git';

/** Environment variables git reads for itself: none may leak in from the caller's environment. */
const GIT_OWN_ENV = /^(GIT_|EDITOR$|VISUAL$|PAGER$|PREFIX$|SSH_ASKPASS$)/i;

/** The caller's environment without git's own variables; default a PATH of the usual directories. */
export function baseGitEnv(
  env: Readonly<Record<string, string | undefined>> = {
    PATH: '/usr/local/bin:/usr/bin:/bin:/opt/homebrew/bin',
  },
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).flatMap(([k, v]) =>
      v === undefined || GIT_OWN_ENV.test(k) ? [] : [[k, v]],
    ),
  );
}

/**
 * A git for one task in `dir`. Its configuration comes from the environment only, nothing written
 * to disk: the remote (so the blobs git fetches on demand come from it too), no background gc
 * (the cache is pruned whole, by eviction), and the header, scoped to the remote's URL. Note:
 * simple-git waits 50 ms after a command that prints nothing, so the commands used are chosen to
 * print where they can.
 */
export function cacheGit(
  dir: string,
  url: string,
  baseEnv: Readonly<Record<string, string>>,
  signal: AbortSignal,
  authHeader?: string,
): SimpleGit {
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
    ...baseEnv,
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

/** Each fetched object gets a ref, which also keeps its objects from ever looking unreachable. */
export function fetchedRef(sha: string): string {
  return `refs/fetched/${sha}`;
}

/**
 * Whether `sha` was fetched before, asked of the refs alone: looking the object up instead would,
 * in this partial clone, make git fetch a missing commit on demand, with its whole history.
 */
export async function hasFetched(git: SimpleGit, sha: string): Promise<boolean> {
  try {
    const ref = fetchedRef(sha);
    return (await git.raw(['for-each-ref', '--format=%(refname)', ref])).trim() === ref;
  } catch {
    return false;
  }
}
