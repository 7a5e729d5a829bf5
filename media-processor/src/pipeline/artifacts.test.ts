import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Artifact } from '@kiln/contracts/job/events';
import pLimit from 'p-limit';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeArtifacts } from '#src/pipeline/artifacts.ts';
import { MediaFailure } from '#src/pipeline/failures.ts';
import { serveBytes, startFileServer, type FileServer } from '#src/pipeline/testing/fileServer.ts';
import { makeAnimatedWebp, makeMp4, makePng } from '#src/pipeline/testing/media.ts';
import { createLocalDirectoryStore, type LocalDirectoryStore } from '#src/storage/localDirectory.ts';

const download = { timeoutMs: 5_000, maxBytes: 10 * 1024 * 1024 };

/** Every file under `root` but the store's own dot files, as paths relative to it. */
const filesUnder = async (root: string) =>
  (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();

describe('storeArtifacts', () => {
  let server: FileServer;
  let root: string;
  let store: LocalDirectoryStore;

  beforeAll(async () => {
    server = await startFileServer({
      '/out/0.png': serveBytes(await makePng(1400, 1000), 'image/png'),
      '/out/1.webp': serveBytes(await makeAnimatedWebp(640, 480, 4), 'application/octet-stream'),
      '/out/video.mp4': serveBytes(makeMp4(1920, 1080), 'video/mp4'),
      '/out/text': serveBytes(Buffer.from('not an image'), 'image/png'),
    });
    root = await mkdtemp(join(tmpdir(), 'kiln-artifacts-'));
    store = createLocalDirectoryStore(root);
  });
  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  const outputs = () => [
    { index: 1, url: server.url('/out/1.webp') },
    { index: 0, url: server.url('/out/0.png') },
  ];

  it('makes variants only within the making slots it is given, while the jobs around them go on', async () => {
    const limit = pLimit(2);
    let making = 0;
    let mostAtOnce = 0;
    const slots = <Result>(make: () => Promise<Result>) =>
      limit(async () => {
        making += 1;
        mostAtOnce = Math.max(mostAtOnce, making);
        try {
          return await make();
        } finally {
          making -= 1;
        }
      });
    const ownRoot = await mkdtemp(join(tmpdir(), 'kiln-artifacts-slots-'));
    const ownStore = createLocalDirectoryStore(ownRoot);
    const jobs = Array.from({ length: 6 }, (_, job) =>
      storeArtifacts({ jobId: `job_${job}`, outputs: outputs(), store: ownStore, download, making: slots }),
    );
    const stored = await Promise.all(jobs);
    await rm(ownRoot, { recursive: true, force: true });
    expect(stored.map((artifacts) => artifacts.length)).toEqual([7, 7, 7, 7, 7, 7]);
    expect(mostAtOnce).toBe(2);
  });

  it('stores every variant of two outputs under deterministic keys, described truly', async () => {
    const artifacts = await storeArtifacts({ jobId: 'job_e2e', outputs: outputs(), store, download });

    expect(artifacts.map((artifact) => [artifact.artifactId, artifact.storageKey])).toEqual([
      ['job_e2e-0-original', 'jobs/job_e2e/0/original.png'],
      ['job_e2e-0-preview', 'jobs/job_e2e/0/preview.webp'],
      ['job_e2e-0-thumbnail', 'jobs/job_e2e/0/thumbnail.webp'],
      ['job_e2e-1-original', 'jobs/job_e2e/1/original.webp'],
      ['job_e2e-1-preview', 'jobs/job_e2e/1/preview.webp'],
      ['job_e2e-1-thumbnail', 'jobs/job_e2e/1/thumbnail.webp'],
      ['job_e2e-1-poster', 'jobs/job_e2e/1/poster.webp'],
    ]);
    expect(await filesUnder(root)).toEqual(artifacts.map((artifact) => artifact.storageKey).sort());

    for (const artifact of artifacts) {
      expect(Artifact.parse(artifact)).toEqual(artifact);
      const bytes = await readFile(join(root, artifact.storageKey));
      expect(bytes.length).toBe(artifact.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
      const metadata = await sharp(bytes).metadata();
      expect([`image/${metadata.format}`, metadata.width, metadata.height]).toEqual([
        artifact.contentType,
        artifact.width,
        artifact.height,
      ]);
      expect((await store.get(artifact.storageKey))?.contentType).toBe(artifact.contentType);
    }
  });

  it('is idempotent: the same completion again gives the same artifacts, keys and bytes, and no more files', async () => {
    const first = await storeArtifacts({ jobId: 'job_twice', outputs: outputs(), store, download });
    const filesAfterFirst = await filesUnder(join(root, 'jobs/job_twice'));
    const second = await storeArtifacts({
      jobId: 'job_twice',
      outputs: outputs().reverse(),
      store,
      download,
    });
    expect(second).toEqual(first);
    expect(await filesUnder(join(root, 'jobs/job_twice'))).toEqual(filesAfterFirst);
    for (const artifact of second) {
      const bytes = await readFile(join(root, artifact.storageKey));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
    }
  });

  it('keeps a video as its original, sized from its container', async () => {
    expect(
      await storeArtifacts({
        jobId: 'job_video',
        outputs: [{ index: 0, url: server.url('/out/video.mp4') }],
        store,
        download,
      }),
    ).toEqual([
      expect.objectContaining({
        variant: 'original',
        storageKey: 'jobs/job_video/0/original.mp4',
        contentType: 'video/mp4',
        width: 1920,
        height: 1080,
      }),
    ]);
  });

  it('fails the job on a bad output, naming it, and removes what it stored for the job before it', async () => {
    const error: unknown = await storeArtifacts({
      jobId: 'job_bad',
      outputs: [
        { index: 0, url: server.url('/out/0.png') },
        { index: 1, url: server.url('/out/text') },
      ],
      store,
      download,
    }).catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(MediaFailure);
    expect(error).toMatchObject({ code: 'output_invalid', retryable: false });
    expect((error as MediaFailure).message).toMatch(/^output 1: /);
    expect(await filesUnder(root).then((files) => files.filter((file) => file.includes('job_bad')))).toEqual(
      [],
    );
  });

  it('keeps what it stored when the failure may pass (a retry writes the same files again)', async () => {
    const error: unknown = await storeArtifacts({
      jobId: 'job_later',
      outputs: [
        { index: 0, url: server.url('/out/0.png') },
        { index: 1, url: server.url('/missing-for-now') },
      ],
      store,
      download,
    }).catch((reason: unknown) => reason);
    expect(error).toMatchObject({ code: 'download_failed', retryable: false });
    const flaky = await startFileServer({
      '/busy': (_request, response) => void response.writeHead(503).end(),
    });
    const retryable: unknown = await storeArtifacts({
      jobId: 'job_later',
      outputs: [
        { index: 0, url: server.url('/out/0.png') },
        { index: 1, url: flaky.url('/busy') },
      ],
      store,
      download,
    }).catch((reason: unknown) => reason);
    await flaky.close();
    expect(retryable).toMatchObject({ code: 'download_failed', retryable: true });
    expect(await store.exists('jobs/job_later/0/original.png')).toBe(true);
  });

  it('refuses two outputs with one index', async () => {
    const url = server.url('/out/0.png');
    await expect(
      storeArtifacts({
        jobId: 'job_dup',
        outputs: [
          { index: 0, url },
          { index: 0, url },
        ],
        store,
        download,
      }),
    ).rejects.toMatchObject({ code: 'output_invalid' });
  });
});
