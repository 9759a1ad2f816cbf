/**
 * DOWNLOAD_SOURCE: NO_SOURCE leaves the source directory empty; a local directory is copied (the
 * build never touches the original); a git URL is cloned with real git and checked out at the
 * version (branch, tag or commit), detached as CodeBuild does. Credentials in a URL never reach a
 * log line or a variable.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { copyTree } from './copy-tree.js';
import { runProcess } from './process.js';
import type { BuildSource, PhaseContext } from './types.js';

export type SourceOutcome =
  | { ok: true; variables: Record<string, string> }
  | { ok: false; halted: boolean; context?: PhaseContext };

export interface SourceOptions {
  srcDir: string;
  /** Never copied into itself: the build's own directory may sit inside the source. */
  workRoot: string;
  env: Record<string, string>;
  halt: AbortSignal;
  log(message: string): void;
}

export async function downloadSource(
  source: BuildSource,
  options: SourceOptions,
): Promise<SourceOutcome> {
  if (source.type === 'NO_SOURCE') return { ok: true, variables: {} };
  if (source.type === 'DIRECTORY') return copyDirectory(source.path, options);
  return cloneGit(source.url, source.version, options);
}

async function copyDirectory(path: string, options: SourceOptions): Promise<SourceOutcome> {
  const from = resolve(path);
  const isDirectory = await stat(from).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!isDirectory) {
    return failed(`source directory ${from} does not exist or is not a directory`);
  }
  try {
    await copyTree(from, options.srcDir, options.workRoot);
  } catch (error) {
    return failed(`cannot copy source directory ${from}: ${(error as Error).message}`);
  }
  return { ok: true, variables: {} };
}

async function cloneGit(
  url: string,
  version: string | undefined,
  options: SourceOptions,
): Promise<SourceOutcome> {
  const shownUrl = redactUrl(url);
  const env = { ...options.env, GIT_TERMINAL_PROMPT: '0' };
  const git = (args: string[], cwd = options.srcDir) =>
    runProcess('git', args, { cwd, env, halt: options.halt });

  const cloneArgs = ['clone', '--quiet', ...(version ? ['--no-checkout'] : []), '--', url, '.'];
  const clone = await git(cloneArgs);
  if (clone.halted) return { ok: false, halted: true };
  if (clone.code !== 0) {
    logLines(options, redactText(clone.stderr, url, shownUrl));
    return failed(
      `git clone of ${shownUrl} failed: ${gitError(redactText(clone.stderr, url, shownUrl))}`,
    );
  }
  if (version) {
    const commit = await resolveVersion(version, git);
    if (commit === null) {
      return failed(`reference not found for primary source and source version ${version}`);
    }
    const checkout = await git(['checkout', '--quiet', '--detach', commit]);
    if (checkout.halted) return { ok: false, halted: true };
    if (checkout.code !== 0) {
      logLines(options, checkout.stderr);
      return failed(`git checkout of ${version} failed: ${gitError(checkout.stderr)}`);
    }
  }
  if (shownUrl !== url) {
    // The clone must not keep a token in .git/config, where the build's commands could read it.
    await git(['remote', 'set-url', 'origin', shownUrl]);
  }
  const head = await git(['rev-parse', 'HEAD']);
  if (head.halted) return { ok: false, halted: true };
  const variables: Record<string, string> = {
    CODEBUILD_RESOLVED_SOURCE_VERSION: head.stdout.trim(),
    CODEBUILD_SOURCE_REPO_URL: shownUrl,
  };
  if (version) variables.CODEBUILD_SOURCE_VERSION = version;
  return { ok: true, variables };
}

/** A branch (as fetched from origin), a tag, or anything git names a commit by (a sha). */
async function resolveVersion(
  version: string,
  git: (args: string[]) => Promise<{ code: number; stdout: string }>,
): Promise<string | null> {
  const branch = version.replace(/^refs\/heads\//, '');
  for (const candidate of [`refs/remotes/origin/${branch}`, `refs/tags/${version}`, version]) {
    const result = await git(['rev-parse', '--verify', '--quiet', `${candidate}^{commit}`]);
    if (result.code === 0) return result.stdout.trim();
  }
  return null;
}

function failed(message: string): SourceOutcome {
  return { ok: false, halted: false, context: { statusCode: 'CLIENT_ERROR', message } };
}

function logLines(options: SourceOptions, text: string): void {
  for (const line of text.split('\n')) if (line.trim()) options.log(line);
}

/** git's first `fatal:`/`error:` line (later lines are advice), else its first line. */
function gitError(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.find((line) => /^(fatal|error):/.test(line)) ?? lines[0] ?? 'no message from git';
}

/** `https://user:token@host/x` → `https://host/x`; other forms are shown as given. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.username && !parsed.password) return url;
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return url;
  }
}

function redactText(text: string, url: string, shownUrl: string): string {
  let result = text.split(url).join(shownUrl);
  try {
    const { password } = new URL(url);
    if (password) result = result.split(password).join('***');
  } catch {
    // Not a URL: nothing to hide.
  }
  return result;
}
