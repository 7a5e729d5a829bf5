import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Store, type S3MediaStore } from '#src/storage/s3.ts';
import { mediaStoreContract, readAll } from '#src/storage/testing/contractSuite.ts';
import { startFakeS3, type FakeS3 } from '#src/storage/testing/fakeS3.ts';

const credentials = { accessKeyId: 'KILNTESTKEY', secretAccessKey: 'kiln-test-secret' };

mediaStoreContract('S3 adapter on an in-memory stand-in server', async () => {
  const fake = await startFakeS3();
  const store = createS3Store({ bucket: fake.bucket, endpoint: fake.endpoint, credentials });
  return {
    store,
    close: async () => {
      store.close();
      await fake.close();
    },
  };
});

describe('S3 adapter requests', () => {
  let fake: FakeS3;
  let store: S3MediaStore;
  beforeAll(async () => {
    fake = await startFakeS3();
    store = createS3Store({ bucket: fake.bucket, endpoint: fake.endpoint, credentials, prefix: 'media/' });
  });
  afterAll(async () => {
    store.close();
    await fake.close();
  });

  it('sends signed, path-style requests for keys under its prefix, with the content type', async () => {
    await store.put('jobs/j1/0/original.png', Buffer.from('png'), 'image/png');
    expect(fake.objects.get('media/jobs/j1/0/original.png')).toEqual({
      body: Buffer.from('png'),
      contentType: 'image/png',
    });
    const put = fake.requests.at(-1);
    expect(put).toMatchObject({ method: 'PUT', key: 'media/jobs/j1/0/original.png' });
    expect(put?.authorization).toContain('Credential=KILNTESTKEY/');
    expect((await readAll((await store.get('jobs/j1/0/original.png'))!.body)).toString()).toBe('png');
  });

  it('reports a missing bucket as an error, not as a missing file', async () => {
    const elsewhere = createS3Store({ bucket: 'no-such-bucket', endpoint: fake.endpoint, credentials });
    await expect(elsewhere.get('jobs/j1/0/original.png')).rejects.toThrow();
    elsewhere.close();
  });
});

/**
 * The contract against a real S3-compatible server (MinIO, Garage, AWS...), when one is configured:
 * S3_ENDPOINT, S3_BUCKET (an existing bucket), S3_REGION (us-east-1), and AWS_ACCESS_KEY_ID /
 * AWS_SECRET_ACCESS_KEY. Skipped otherwise.
 */
const endpoint = process.env['S3_ENDPOINT'];
const bucket = process.env['S3_BUCKET'];
describe.skipIf(!endpoint || !bucket)('S3 adapter on the server of S3_ENDPOINT', () => {
  mediaStoreContract('S3 adapter on S3_ENDPOINT', () => {
    const store = createS3Store({
      bucket: bucket!,
      endpoint: endpoint!,
      region: process.env['S3_REGION'] ?? 'us-east-1',
      forcePathStyle: process.env['S3_FORCE_PATH_STYLE'] !== 'false',
      prefix: 'kiln-media-contract',
    });
    return Promise.resolve({ store, close: () => Promise.resolve(store.close()) });
  });
});
