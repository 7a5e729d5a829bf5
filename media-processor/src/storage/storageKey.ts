/** A key no adapter will store under: it could escape the store's root or reach its own bookkeeping files. */
export class InvalidStorageKey extends Error {
  override readonly name = 'InvalidStorageKey';
}

export const MAX_STORAGE_KEY_LENGTH = 500;
const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * A storage key is relative and `/`-separated; each segment is letters, digits, `.`, `_` and `-`, and does not
 * start with a dot. So `..`, `.`, empty segments, absolute paths, backslashes, NUL and other control
 * characters are all refused, and names starting with a dot stay free for an adapter's temporary files and
 * sidecars. The key itself is never echoed in the error (it came from outside).
 */
export const checkStorageKey = (key: string): string => {
  if (key.length === 0 || key.length > MAX_STORAGE_KEY_LENGTH) {
    throw new InvalidStorageKey(`a storage key has 1 to ${MAX_STORAGE_KEY_LENGTH} characters`);
  }
  if (!key.split('/').every((segment) => SEGMENT.test(segment))) {
    throw new InvalidStorageKey(
      'a storage key is relative, with /-separated segments of letters, digits, ".", "_" and "-" that do not start with "."',
    );
  }
  return key;
};
