/**
 * Copies a directory tree (files with their modes, symbolic links as links) and leaves out one
 * path: the build's own directory may lie inside the source it copies (fs.cp refuses that).
 */
import { copyFile, mkdir, readdir, readlink, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export async function copyTree(from: string, to: string, skip: string): Promise<void> {
  const skipped = resolve(skip);
  const walk = async (source: string, target: string): Promise<void> => {
    await mkdir(target, { recursive: true });
    for (const entry of await readdir(source, { withFileTypes: true })) {
      const sourcePath = join(source, entry.name);
      const targetPath = join(target, entry.name);
      if (resolve(sourcePath) === skipped) continue;
      if (entry.isDirectory()) await walk(sourcePath, targetPath);
      else if (entry.isSymbolicLink()) await symlink(await readlink(sourcePath), targetPath);
      else if (entry.isFile()) await copyFile(sourcePath, targetPath);
      // Sockets, FIFOs and devices are not source.
    }
  };
  await walk(resolve(from), to);
}
