import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeArtifacts } from '#src/pipeline/artifacts.ts';
import { MediaFailure } from '#src/pipeline/failures.ts';
import { sniff, type SniffedMedia } from '#src/pipeline/sniff.ts';
import {
  hang,
  serveBytes,
  startFileServer,
  streamBytes,
  type FileServer,
} from '#src/pipeline/testing/fileServer.ts';
import {
  makeAnimatedGif,
  makeAnimatedWebp,
  makeDecompressionBomb,
  makeJpeg,
  makeLongAnimation,
  makePng,
} from '#src/pipeline/testing/media.ts';
import { measureRss } from '#src/pipeline/testing/rss.ts';
import { MAX_INPUT_PIXELS } from '#src/pipeline/variantSettings.ts';
import { configureSharp, makeVariants } from '#src/pipeline/variants.ts';
import { createLocalDirectoryStore, type LocalDirectoryStore } from '#src/storage/localDirectory.ts';

const MB = 1024 * 1024;
const download = { timeoutMs: 1_000, maxBytes: 5 * MB };

const failureOf = async (promise: Promise<unknown>): Promise<MediaFailure> => {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MediaFailure);
  return error as MediaFailure;
};

/** The first half of a file: its header is whole, its pixel data stops in the middle. */
const firstHalf = (bytes: Buffer) => bytes.subarray(0, bytes.length >> 1);

describe('hostile outputs fail the job with a clear code, never the processor', () => {
  let bomb: Buffer;
  let longAnimation: Buffer;
  let server: FileServer;
  let root: string;
  let store: LocalDirectoryStore;
  const large = streamBytes(20 * MB, { declareLength: false });

  beforeAll(async () => {
    configureSharp({ concurrency: 2 });
    // Interlaced, so that decoding it cannot stream: without the pixel limit, sharp takes ~900 MB and seconds.
    bomb = await makeDecompressionBomb(30_000, { interlaced: true });
    longAnimation = await makeLongAnimation(1000, 52);
    server = await startFileServer({
      '/good.png': serveBytes(await makePng(1200, 900)),
      '/truncated.png': serveBytes(firstHalf(await makePng(1200, 900))),
      '/bomb.png': serveBytes(bomb),
      '/text': serveBytes(Buffer.from('{"error": "this is JSON, not an image"}')),
      '/large': large.route,
      '/hang': hang({ afterHeaders: false }),
    });
    root = await mkdtemp(join(tmpdir(), 'kiln-hostile-'));
    store = createLocalDirectoryStore(root);
  });
  afterAll(async () => {
    await server.close();
    await rm(root, { recursive: true, force: true });
  });

  const processOne = (jobId: string, path: string) =>
    storeArtifacts({ jobId, outputs: [{ index: 0, url: server.url(path) }], store, download });

  it.each([
    ['PNG', () => makePng(1200, 900)],
    ['JPEG', () => makeJpeg(1200, 900)],
    ['animated WebP', () => makeAnimatedWebp(600, 400, 4)],
    ['animated GIF', () => makeAnimatedGif(600, 400, 4)],
  ])('refuses a truncated %s (cut in half) as output_invalid', async (_name, make) => {
    const truncated = firstHalf(await make());
    const failure = await failureOf(sniff(truncated).then((media) => makeVariants(truncated, media)));
    expect(failure).toMatchObject({ code: 'output_invalid', retryable: false });
  });

  it('refuses a PNG whose pixel data is garbage as output_invalid', async () => {
    const png = await makePng(600, 400);
    const corrupt = Buffer.concat([png.subarray(0, 60), Buffer.alloc(png.length - 60, 0x5a)]);
    const failure = await failureOf(sniff(corrupt).then((media) => makeVariants(corrupt, media)));
    expect(failure.code).toBe('output_invalid');
  });

  it('refuses a truncated PNG from a download, storing nothing', async () => {
    const failure = await failureOf(processOne('job_truncated', '/truncated.png'));
    expect(failure).toMatchObject({ code: 'output_invalid', retryable: false });
    expect(failure.message).toBe('output 0: the output is a corrupt or truncated image/png');
    expect(await readdir(root)).toEqual([]);
  });

  it('refuses a decompression bomb (an interlaced 30000×30000 PNG in under 1 MB) without decoding it', async () => {
    expect(bomb.length).toBeLessThan(1 * MB);
    const bySniff = await measureRss(() => sniff(bomb));
    // Past the sniff too: sharp's own limitInputPixels refuses it when the variants are made.
    const claimed: SniffedMedia = {
      kind: 'image',
      contentType: 'image/png',
      extension: 'png',
      width: 1,
      height: 1,
      frames: 1,
    };
    const bySharp = await measureRss(() => makeVariants(bomb, claimed));
    const byPipeline = await measureRss(() => processOne('job_bomb', '/bomb.png'));

    for (const measure of [bySniff, bySharp, byPipeline]) {
      expect(measure.outcome.status).toBe('rejected');
      const failure = (measure.outcome as PromiseRejectedResult).reason as MediaFailure;
      expect(failure).toBeInstanceOf(MediaFailure);
      expect(failure.code).toBe('output_too_large');
      expect(measure.riseMb).toBeLessThan(100);
    }
    console.info(
      `decompression bomb (${bomb.length} bytes, 900 MP, interlaced): RSS rise ` +
        `sniff ${bySniff.riseMb} MB, makeVariants ${bySharp.riseMb} MB, storeArtifacts ${byPipeline.riseMb} MB ` +
        `(peak ${Math.max(bySniff.peakMb, bySharp.peakMb, byPipeline.peakMb)} MB)`,
    );
  });

  it("refuses an animation past the pixel limit in sharp's own check, whatever the sniff said", async () => {
    expect(52 * 1000 * 1000).toBeGreaterThan(MAX_INPUT_PIXELS);
    const claimed: SniffedMedia = {
      kind: 'animation',
      contentType: 'image/webp',
      extension: 'webp',
      width: 1000,
      height: 1000,
      frames: 2,
    };
    const measure = await measureRss(() => makeVariants(longAnimation, claimed));
    expect(measure.outcome.status).toBe('rejected');
    expect((measure.outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'output_too_large' });
    expect(measure.riseMb).toBeLessThan(100);
  });

  it('refuses what is not an image as output_invalid', async () => {
    const failure = await failureOf(processOne('job_text', '/text'));
    expect(failure).toMatchObject({ code: 'output_invalid', retryable: false });
    expect(failure.message).toContain('not a supported image');
  });

  it('stops a download past maxBytes as output_too_large, dropping the connection early', async () => {
    const measure = await measureRss(() => processOne('job_large', '/large'));
    expect((measure.outcome as PromiseRejectedResult).reason).toMatchObject({ code: 'output_too_large' });
    await large.report.finished;
    expect(large.report.clientLeftEarly).toBe(true);
    expect(large.report.written).toBeLessThan(12 * MB);
    expect(measure.riseMb).toBeLessThan(100);
  });

  it('gives up on a download that hangs past its timeout, as a retryable failure', async () => {
    const failure = await failureOf(processOne('job_hang', '/hang'));
    expect(failure).toMatchObject({ code: 'download_failed', retryable: true });
  });

  it('keeps working through all of them at once, and makes a good output meanwhile', async () => {
    const hostile = ['/truncated.png', '/bomb.png', '/text', '/hang'].map((path, at) =>
      processOne(`job_mixed_${at}`, path).then(
        () => 'stored',
        (error: unknown) => (error instanceof MediaFailure ? error.code : 'crashed'),
      ),
    );
    const good = await measureRss(() => processOne('job_good', '/good.png'));
    expect(await Promise.all(hostile)).toEqual([
      'output_invalid',
      'output_too_large',
      'output_invalid',
      'download_failed',
    ]);
    expect(good.outcome.status).toBe('fulfilled');
    console.info(
      `a good 1200×900 PNG beside four hostile outputs: RSS rise ${good.riseMb} MB (peak ${good.peakMb} MB)`,
    );
  });
});
