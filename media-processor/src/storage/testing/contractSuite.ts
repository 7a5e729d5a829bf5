import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaStore } from '#src/storage/mediaStore.ts';
import { InvalidStorageKey } from '#src/storage/storageKey.ts';

export type OpenedForContract = {
  store: MediaStore;
  close(): Promise<void>;
};

export const readAll = async (body: Readable): Promise<Buffer> =>
  Buffer.concat((await body.toArray()) as Buffer[]);

/** Keys that could escape a store's root, or reach its own files: every adapter refuses them all. */
export const ESCAPING_KEYS = [
  '',
  '../outside.png',
  'jobs/../../outside.png',
  '/etc/passwd',
  'jobs\\..\\outside.png',
  'jobs/a\0.png',
  'jobs//double.png',
  'jobs/./same.png',
  '.hidden',
  'jobs/.original.png.content-type',
  'jobs/trailing/',
  'x'.repeat(501),
];

/**
 * The behaviour every MediaStore adapter must have, run against a fresh store. Keys are under a random
 * prefix, so the suite can run against a shared bucket; it deletes what it wrote.
 */
export const mediaStoreContract = (name: string, open: () => Promise<OpenedForContract>) => {
  describe(`${name}: the MediaStore contract`, () => {
    let opened: OpenedForContract;
    let store: MediaStore;
    const run = `contract-${randomBytes(6).toString('hex')}`;
    const written = new Set<string>();
    const keyOf = (name: string) => {
      const key = `${run}/${name}`;
      written.add(key);
      return key;
    };

    beforeAll(async () => {
      opened = await open();
      store = opened.store;
    });
    afterAll(async () => {
      await Promise.allSettled([...written].map((key) => store.delete(key)));
      await opened.close();
    });

    it('gives back what was put: bytes, size and content type', async () => {
      const key = keyOf('jobs/job-1/0/original.png');
      const body = randomBytes(3 * 1024 * 1024 + 17);
      await store.put(key, body, 'image/png');
      expect(await store.exists(key)).toBe(true);
      const stored = await store.get(key);
      expect(stored).toMatchObject({ size: body.length, contentType: 'image/png' });
      expect((await readAll(stored!.body)).equals(body)).toBe(true);
    });

    it('answers a missing key with undefined and false, and deletes it without complaint', async () => {
      const key = keyOf('jobs/none/0/preview.webp');
      expect(await store.get(key)).toBeUndefined();
      expect(await store.exists(key)).toBe(false);
      await expect(store.delete(key)).resolves.toBeUndefined();
    });

    it('replaces a file put again under the same key, with its new content type', async () => {
      const key = keyOf('jobs/job-2/0/thumbnail.webp');
      await store.put(key, Buffer.from('first'), 'application/octet-stream');
      await store.put(key, Buffer.from('second, longer'), 'image/webp');
      const stored = await store.get(key);
      expect(stored).toMatchObject({ size: 14, contentType: 'image/webp' });
      expect((await readAll(stored!.body)).toString()).toBe('second, longer');
    });

    it('keeps an empty file', async () => {
      const key = keyOf('empty.bin');
      await store.put(key, Buffer.alloc(0), 'application/octet-stream');
      const stored = await store.get(key);
      expect(stored?.size).toBe(0);
      expect((await readAll(stored!.body)).length).toBe(0);
    });

    it('forgets a deleted file', async () => {
      const key = keyOf('jobs/job-3/1/poster.webp');
      await store.put(key, Buffer.from('poster'), 'image/webp');
      await store.delete(key);
      expect(await store.exists(key)).toBe(false);
      expect(await store.get(key)).toBeUndefined();
    });

    it.each(ESCAPING_KEYS.map((key) => [JSON.stringify(key).slice(0, 40), key]))(
      'refuses the key %s in every call',
      async (_shown, key) => {
        await expect(store.put(key, Buffer.from('x'), 'text/plain')).rejects.toBeInstanceOf(
          InvalidStorageKey,
        );
        await expect(store.get(key)).rejects.toBeInstanceOf(InvalidStorageKey);
        await expect(store.exists(key)).rejects.toBeInstanceOf(InvalidStorageKey);
        await expect(store.delete(key)).rejects.toBeInstanceOf(InvalidStorageKey);
      },
    );
  });
};
