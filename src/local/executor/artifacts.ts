/**
 * UPLOAD_ARTIFACTS, locally: the files the buildspec's `artifacts` section selects are copied to
 * <workRoot>/artifacts instead of S3. `files` are globs relative to `base-directory` (`**\/*` is
 * everything, dot files included), `exclude-paths` removes matches, `discard-paths: yes` keeps
 * only file names, `name` is reported. As in CodeBuild, selecting no file fails the phase.
 */
import { copyFile, mkdir, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import type { PhaseContext } from './types.js';

export interface ArtifactsSpec {
  files: string[];
  baseDirectory: string;
  discardPaths: boolean;
  excludePaths: string[];
  name?: string;
}

const KNOWN_KEYS = new Set([
  'files',
  'base-directory',
  'discard-paths',
  'exclude-paths',
  'name',
  'enable-symlinks',
  's3-prefix',
  'secondary-artifacts',
]);

/** Reads the section; returns an error message (for YAML_FILE_ERROR) when it is unusable. */
export function parseArtifacts(section: Record<string, unknown>): ArtifactsSpec | string {
  const unknown = Object.keys(section).find((key) => !KNOWN_KEYS.has(key));
  if (unknown) return `artifacts: unknown key "${unknown}"`;
  const files = stringList(section.files);
  if (!files || files.length === 0) return 'artifacts.files: a list of paths or globs is required';
  const excludePaths =
    section['exclude-paths'] === undefined ? [] : stringList(section['exclude-paths']);
  if (!excludePaths) return 'artifacts.exclude-paths: must be a list of globs';
  const base = section['base-directory'] ?? '.';
  if (typeof base !== 'string') return 'artifacts.base-directory: must be a path';
  const discard = section['discard-paths'] ?? 'no';
  if (!['yes', 'no', true, false].includes(discard as string | boolean)) {
    return 'artifacts.discard-paths: must be yes or no';
  }
  const name = section.name;
  if (name !== undefined && typeof name !== 'string') return 'artifacts.name: must be a string';
  return {
    files: files.map(normalizePattern),
    baseDirectory: base,
    discardPaths: discard === 'yes' || discard === true,
    excludePaths: excludePaths.map(normalizePattern),
    ...(name !== undefined ? { name } : {}),
  };
}

export type ArtifactsOutcome = { ok: true; count: number } | { ok: false; context: PhaseContext };

export async function uploadArtifacts(
  spec: ArtifactsSpec,
  srcDir: string,
  artifactsDir: string,
  log: (message: string) => void,
): Promise<ArtifactsOutcome> {
  log(`Expanding base directory path: ${spec.baseDirectory}`);
  const root = resolve(srcDir);
  const base = resolve(root, spec.baseDirectory);
  const baseIsDirectory = await stat(base).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!baseIsDirectory || (base !== root && !base.startsWith(`${root}${sep}`))) {
    return clientError(`no matching base directory path found for ${spec.baseDirectory}`);
  }
  log('Assembling file list');
  const all = await listFiles(base);
  const include = picomatch(spec.files, { dot: true });
  const exclude = spec.excludePaths.length ? picomatch(spec.excludePaths, { dot: true }) : null;
  for (const pattern of spec.files) log(`Expanding ${pattern}`);
  const selected = all.filter((path) => include(path) && !exclude?.(path));
  log(`Found ${selected.length} file(s)`);
  if (selected.length === 0) return clientError('no matching artifact paths found');

  await mkdir(artifactsDir, { recursive: true });
  for (const path of selected) {
    const target = join(artifactsDir, spec.discardPaths ? basename(path) : path);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(join(base, path), target);
  }
  if (spec.name) log(`Artifact name: ${spec.name}`);
  return { ok: true, count: selected.length };
}

/** Files under `root` (symbolic links to files count; directories are walked), POSIX-relative. */
async function listFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(full);
      } else if (entry.isFile() || (entry.isSymbolicLink() && (await isFile(full)))) {
        files.push(relative(root, full).split(sep).join('/'));
      }
    }
  };
  await walk(root);
  return files.sort();
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}

function stringList(value: unknown): string[] | null {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  return null;
}

function normalizePattern(pattern: string): string {
  return pattern.replace(/^\.\//, '');
}

function clientError(message: string): ArtifactsOutcome {
  return { ok: false, context: { statusCode: 'CLIENT_ERROR', message } };
}
