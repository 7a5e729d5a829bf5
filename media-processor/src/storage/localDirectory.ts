import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import type { MediaStore, StoredMedia } from '#src/storage/mediaStore.ts';
import { checkStorageKey, InvalidStorageKey } from '#src/storage/storageKey.ts';

const TYPES_BY_EXTENSION: Readonly<Record<string, string>> = {
  avif: 'image/avif',
  gif: 'image/gif',
  jpeg: 'image/jpeg',
  jpg: 'image/jpeg',
  mp4: 'video/mp4',
  png: 'image/png',
  webm: 'video/webm',
  webp: 'image/webp',
};

const typeByExtension = (key: string): string =>
  TYPES_BY_EXTENSION[key.slice(key.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';

const isMissing = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');

/** Fsyncs a folder, so a rename into it survives a crash of the machine. */
const syncFolder = async (folder: string): Promise<void> => {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
};

/** Writes a temporary file beside `path` (a dot name, which no key can have), fsyncs it and renames it over `path`. */
const writeAtomically = async (path: string, data: Buffer | string): Promise<void> => {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx', 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
};

export type LocalDirectoryStore = MediaStore & {
  readonly root: string;
  /** Where the file of `key` is (or would be) on disk. */
  pathOf(key: string): string;
};

/**
 * Files under a root folder, at their keys' paths. Each file's content type is kept in a sidecar beside it
 * (`.<name>.content-type`); a file without one (copied in by hand) is typed by its extension.
 */
export const createLocalDirectoryStore = (root: string): LocalDirectoryStore => {
  const base = resolve(root);

  const pathOf = (key: string): string => {
    const path = resolve(base, checkStorageKey(key));
    if (!path.startsWith(base + sep)) throw new InvalidStorageKey('a storage key must stay under the root');
    return path;
  };
  const sidecarOf = (path: string): string => join(dirname(path), `.${basename(path)}.content-type`);

  const readSidecar = async (path: string): Promise<string | undefined> => {
    try {
      return (await readFile(sidecarOf(path), 'utf8')).trim() || undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  };

  return {
    root: base,
    pathOf,

    async put(key, body, contentType) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      await writeAtomically(sidecarOf(path), contentType);
      await writeAtomically(path, body);
      await syncFolder(dirname(path));
    },

    async get(key): Promise<StoredMedia | undefined> {
      const path = pathOf(key);
      let handle;
      try {
        handle = await open(path, 'r');
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      try {
        // The open handle keeps reading the file it opened, even if a put renames another over it meanwhile.
        const stats = await handle.stat();
        if (!stats.isFile()) {
          await handle.close();
          return undefined;
        }
        const contentType = (await readSidecar(path)) ?? typeByExtension(key);
        return { body: handle.createReadStream(), size: stats.size, contentType };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },

    async exists(key) {
      try {
        return (await stat(pathOf(key))).isFile();
      } catch (error) {
        if (isMissing(error)) return false;
        throw error;
      }
    },

    async delete(key) {
      const path = pathOf(key);
      await rm(path, { force: true });
      await rm(sidecarOf(path), { force: true });
    },
  };
};
