import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMediaStore, s3OptionsFrom } from '#src/storage/open.ts';
import { readAll } from '#src/storage/testing/contractSuite.ts';
import { startFakeS3, type FakeS3 } from '#src/storage/testing/fakeS3.ts';

describe('openMediaStore', () => {
  let parent: string;
  let fake: FakeS3;
  beforeAll(async () => {
    parent = await mkdtemp(join(tmpdir(), 'kiln-media-open-'));
    fake = await startFakeS3();
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
    await fake.close();
  });

  it('opens a path as a local directory, creating it', async () => {
    const root = join(parent, 'by-path');
    const store = await openMediaStore(root);
    expect(store.description).toBe(`local directory ${root}`);
    expect((await stat(root)).isDirectory()).toBe(true);
    await store.put('a/b.png', Buffer.from('x'), 'image/png');
    expect(await store.exists('a/b.png')).toBe(true);
  });

  it('opens a file:/// URL as a local directory', async () => {
    const root = join(parent, 'by url');
    const store = await openMediaStore(pathToFileURL(root).href);
    expect(store.description).toBe(`local directory ${root}`);
  });

  it('reads an s3:// URL: bucket, prefix, endpoint, region, path style; credentials from AWS_* variables', () => {
    const env = { AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-3' };
    expect(
      s3OptionsFrom(
        new URL('s3://media/kiln/prod/?endpoint=http%3A%2F%2Fminio%3A9000&forcePathStyle=true'),
        env,
      ),
    ).toEqual({
      bucket: 'media',
      prefix: 'kiln/prod',
      endpoint: 'http://minio:9000',
      region: 'eu-west-3',
      forcePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
    expect(s3OptionsFrom(new URL('s3://media?region=us-west-2&forcePathStyle=false'), {})).toEqual({
      bucket: 'media',
      region: 'us-west-2',
      forcePathStyle: false,
    });
  });

  it('opens an s3:// URL as the S3 adapter, which works against an S3-compatible endpoint', async () => {
    const store = await openMediaStore(`s3://${fake.bucket}?endpoint=${encodeURIComponent(fake.endpoint)}`, {
      AWS_ACCESS_KEY_ID: 'id',
      AWS_SECRET_ACCESS_KEY: 'secret',
    });
    expect(store.description).toBe(`S3 bucket ${fake.bucket} at ${new URL(fake.endpoint).host}`);
    await store.put('jobs/j/0/original.png', Buffer.from('via s3'), 'image/png');
    const stored = await store.get('jobs/j/0/original.png');
    expect((await readAll(stored!.body)).toString()).toBe('via s3');
    store.close();
  });

  it('refuses any other scheme without echoing the setting', async () => {
    const error: unknown = await openMediaStore('ftp://user:hunter2@example.com/media').catch(
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).not.toContain('hunter2');
    await expect(openMediaStore('s3://?endpoint=x')).rejects.toThrow(/names its bucket/);
  });
});
