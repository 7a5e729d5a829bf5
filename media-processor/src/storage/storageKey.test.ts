import { describe, expect, it } from 'vitest';
import { checkStorageKey, InvalidStorageKey } from '#src/storage/storageKey.ts';
import { ESCAPING_KEYS } from '#src/storage/testing/contractSuite.ts';

describe('checkStorageKey', () => {
  it.each(['jobs/j_1-A/0/original.png', 'a', 'jobs/x/15/poster.webp', 'x'.repeat(500)])('takes %s', (key) => {
    expect(checkStorageKey(key)).toBe(key);
  });

  it.each([...ESCAPING_KEYS, 'C:\\Windows', 'jobs/a b.png', 'jobs/é.png', 'jobs/a\n.png', '..'])(
    'refuses %j, without echoing it',
    (key) => {
      expect(() => checkStorageKey(key)).toThrow(InvalidStorageKey);
      try {
        checkStorageKey(key);
      } catch (error) {
        if (key.length > 2) expect((error as Error).message).not.toContain(key);
      }
    },
  );
});
