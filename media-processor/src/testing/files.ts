import { readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/**
 * The files under a folder, as sorted paths relative to it, leaving out dot names (a store's sidecars and
 * temporary files): what a store holds under its keys.
 */
export const filesUnder = async (root: string, under = ''): Promise<string[]> => {
  const entries = await readdir(join(root, under), { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)),
  );
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
};
