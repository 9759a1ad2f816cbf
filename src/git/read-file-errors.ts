/** The errors of reading a file from a repository: each names the URL (no credentials) and the fix. */
import { CodebuildRunError } from '../errors.js';

export class RepoReadError extends CodebuildRunError {
  constructor(
    message: string,
    code: string,
    /** The repository URL without credentials. */
    readonly repoUrl: string,
  ) {
    super(message, code);
  }
}

/** The clone URL as git will use it; refuses credentials in it and non-HTTP transports. */
export function checkedUrl(cloneUrl: string): string {
  let url: URL;
  try {
    url = new URL(cloneUrl);
  } catch {
    throw new RepoReadError(
      `"${cloneUrl}" is not a clone URL: give the repository's HTTPS URL`,
      'git.bad-input',
      cloneUrl,
    );
  }
  if (url.username || url.password) {
    url.username = '';
    url.password = '';
    throw new RepoReadError(
      `the clone URL ${url.href} carries credentials: pass them as authHeader instead`,
      'git.bad-input',
      url.href,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new RepoReadError(
      `${url.href} is not an HTTP(S) clone URL: give the repository's HTTPS URL`,
      'git.bad-input',
      url.href,
    );
  }
  return url.href;
}

/** What went wrong, from git's stderr, in words that say what to do. Never quotes the header. */
export function explainGitError(
  error: unknown,
  at: {
    url: string;
    /** What the caller was doing, e.g. `reading buildspec.yml at <sha>`. */
    task: string;
    step: string;
    authHeader?: string;
    /** What the remote did not send, why that may be and the fix: "<url> did not send …". */
    missing: string;
  },
): RepoReadError {
  let said = error instanceof Error ? error.message : String(error);
  if (at.authHeader) said = said.split(at.authHeader).join('***');
  const { url } = at;
  const make = (message: string, code: string) => new RepoReadError(message, code, url);
  if (
    /HTTP 40[13]|returned error: 40[13]|Authentication failed|could not read (Username|Password)/i.test(
      said,
    )
  ) {
    return make(
      at.authHeader
        ? `${url} refused the credentials: check that the host's clone token can read this repository`
        : `${url} asks for credentials: set cloneToken for this host (the repository is private)`,
      'git.unauthorized',
    );
  }
  if (/HTTP 404|returned error: 404|repository .* not found|not found/i.test(said)) {
    return make(
      `${url} was not found: check the clone URL, and that the token can see the repository`,
      'git.not-found',
    );
  }
  if (
    /not our ref|unadvertised object|couldn't find remote ref|no such remote ref|bad object|did not send all necessary objects/i.test(
      said,
    )
  ) {
    return make(`${url} did not send ${at.missing}`, 'git.commit-missing');
  }
  if (
    /could not resolve host|failed to connect|connection refused|couldn't connect|timed out/i.test(
      said,
    )
  ) {
    return make(`could not reach ${url}: check the network and the URL`, 'git.unreachable');
  }
  const last = said.trim().split('\n').filter(Boolean).at(-1) ?? 'no message';
  return make(`git ${at.step} failed while ${at.task} from ${url}: ${last}`, 'git.failed');
}
