import type { Readable } from 'node:stream';

/** A stored file as read back: its bytes as a stream, with the size and content type it was stored with. */
export type StoredMedia = { body: Readable; size: number; contentType: string };

/**
 * Where artifacts are kept: a local directory by default, an S3-compatible bucket behind the same port.
 * Keys are checked by `checkStorageKey` (relative, `/`-separated, no `..`); a bad key is an
 * `InvalidStorageKey` in every adapter.
 */
export interface MediaStore {
  /** Stores `body` under `key`, replacing what was there. Atomic: a reader sees the old file or the new one, whole. */
  put(key: string, body: Buffer, contentType: string): Promise<void>;
  /** The file under `key`, or undefined when there is none. */
  get(key: string): Promise<StoredMedia | undefined>;
  exists(key: string): Promise<boolean>;
  /** Removes the file under `key`; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
}
