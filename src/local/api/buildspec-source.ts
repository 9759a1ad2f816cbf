/**
 * Where a build's buildspec comes from: inline YAML in StartBuild or the project, else a file of
 * the source (`buildspec.yml` unless a path is named), read from a directory or fetched from git.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import type { BuildSource } from '../executor/types.js';

const run = promisify(execFile);

export type BuildspecChoice = { inline: string } | { path: string };

/**
 * CodeBuild takes either YAML text or a path relative to the source root; text that is a YAML
 * mapping (or spans lines) is the buildspec itself, a bare scalar is a path.
 */
export function chooseBuildspec(value: string | undefined): BuildspecChoice {
  if (value === undefined || value.trim() === '') return { path: 'buildspec.yml' };
  if (value.includes('\n')) return { inline: value };
  try {
    const parsed: unknown = parse(value);
    if (parsed !== null && typeof parsed === 'object') return { inline: value };
  } catch {
    // Not YAML at all: treat it as a path and let reading it fail with the path in the message.
  }
  return { path: value.trim() };
}

export class SourceBuildspecError extends Error {}

/** Text fit for a message: credentials in the URLs it holds are replaced by `***`. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s'"]*@/gi, '$1***@');
}

/** Reads `path` from the build's source; `scratch` is a directory it may use and removes. */
export async function readSourceBuildspec(
  source: BuildSource,
  path: string,
  scratch: string,
  signal: AbortSignal,
): Promise<string> {
  const relative = normalize(path);
  if (isAbsolute(relative) || relative.startsWith('..')) {
    throw new SourceBuildspecError(`buildspec path ${path} must be relative to the source root`);
  }
  if (source.type === 'NO_SOURCE') {
    throw new SourceBuildspecError('a NO_SOURCE build needs an inline buildspec');
  }
  if (source.type === 'DIRECTORY') {
    try {
      return await readFile(join(source.path, relative), 'utf8');
    } catch (error) {
      throw new SourceBuildspecError(
        `cannot read ${join(source.path, relative)}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
  }
  await mkdir(scratch, { recursive: true });
  const where = `${redactUrl(source.url)} at ${source.version ?? 'HEAD'}`;
  try {
    const git = (...args: string[]) =>
      run('git', ['-C', scratch, ...args], { signal, timeout: 120_000 });
    await git('init', '-q');
    try {
      await git('fetch', '-q', '--depth', '1', source.url, source.version ?? 'HEAD');
    } catch (error) {
      const detail = String((error as { stderr?: string }).stderr ?? error)
        .trim()
        .split('\n')[0];
      throw new SourceBuildspecError(
        `cannot fetch ${where} to read ${path}: ${redactUrl(detail ?? '')}`,
      );
    }
    try {
      const { stdout } = await git('show', `FETCH_HEAD:${relative}`);
      return stdout;
    } catch {
      throw new SourceBuildspecError(
        `${path} is not in ${where}; add it or pass buildspecOverride`,
      );
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
