import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalDirectoryStore, type LocalDirectoryStore } from '#src/storage/localDirectory.ts';
import { mediaStoreContract, readAll } from '#src/storage/testing/contractSuite.ts';

const MB = 1024 * 1024;

mediaStoreContract('local directory', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kiln-media-contract-'));
  return {
    store: createLocalDirectoryStore(root),
    close: () => rm(root, { recursive: true, force: true }),
  };
});

describe('local directory store', () => {
  let root: string;
  let store: LocalDirectoryStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'kiln-media-'));
    store = createLocalDirectoryStore(root);
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('keeps a file at its key under the root, with its content type in a sidecar', async () => {
    await store.put('jobs/j1/0/original.png', Buffer.from('png bytes'), 'image/png');
    const path = join(root, 'jobs/j1/0/original.png');
    expect(store.pathOf('jobs/j1/0/original.png')).toBe(path);
    expect(await readFile(path, 'utf8')).toBe('png bytes');
    expect((await readdir(dirname(path))).sort()).toEqual(['.original.png.content-type', 'original.png']);
  });

  it('types a file without a sidecar (copied in by hand) by its extension', async () => {
    await store.put('jobs/j1/0/keep.bin', Buffer.from('x'), 'image/png');
    await writeFile(join(root, 'jobs/j1/0/by-hand.webp'), 'webp bytes');
    expect((await store.get('jobs/j1/0/by-hand.webp'))?.contentType).toBe('image/webp');
    const unknown = join(root, 'jobs/j1/0/by-hand.xyz');
    await writeFile(unknown, 'x');
    const stored = await store.get('jobs/j1/0/by-hand.xyz');
    expect(stored?.contentType).toBe('application/octet-stream');
    stored?.body.destroy();
  });

  it('never shows a partial file under the final name while a large put is written', async () => {
    const body = Buffer.alloc(64 * MB, 0x61);
    const path = join(root, 'jobs/big/0/original.png');
    const seen = new Set<number>();
    let writing = true;
    const watching = (async () => {
      while (writing) {
        const size = await stat(path).then(
          (stats) => stats.size,
          () => -1,
        );
        seen.add(size);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await store.put('jobs/big/0/original.png', body, 'image/png');
    writing = false;
    await watching;
    expect([...seen].filter((size) => size !== -1 && size !== body.length)).toEqual([]);
    expect(seen.has(-1)).toBe(true);
    expect((await stat(path)).size).toBe(body.length);
  });

  it('replaces a file whole: a reader sees the old bytes or the new, never a mix or a part', async () => {
    const key = 'jobs/swap/0/preview.webp';
    const old = Buffer.alloc(16 * MB, 0x61);
    const next = Buffer.alloc(16 * MB, 0x62);
    await store.put(key, old, 'image/webp');
    const opened = await store.get(key); // opened before the overwrite: keeps reading the old file
    const reads: string[] = [];
    let writing = true;
    const reading = (async () => {
      while (writing) {
        const bytes = await readFile(store.pathOf(key));
        const first = bytes[0];
        reads.push(
          bytes.length === old.length && bytes.every((byte) => byte === first) ? String(first) : 'torn',
        );
      }
    })();
    await store.put(key, next, 'image/webp');
    await store.put(key, old, 'image/webp');
    writing = false;
    await reading;
    expect(reads).not.toContain('torn');
    expect((await readAll(opened!.body)).equals(old)).toBe(true);
  });

  it('leaves no temporary file behind', async () => {
    await Promise.all(
      Array.from({ length: 8 }, (_, at) =>
        store.put('jobs/many/0/original.png', Buffer.alloc(MB, at), 'image/png'),
      ),
    );
    expect((await readdir(join(root, 'jobs/many/0'))).sort()).toEqual([
      '.original.png.content-type',
      'original.png',
    ]);
  });

  it('answers a key that names a folder as missing', async () => {
    await store.put('jobs/j1/0/original.png', Buffer.from('x'), 'image/png');
    expect(await store.exists('jobs/j1/0')).toBe(false);
    expect(await store.get('jobs/j1/0')).toBeUndefined();
    expect(await store.exists('jobs/j1/0/original.png/below')).toBe(false);
  });
});
