import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamId } from '@kiln/contracts/streams';
import {
  hang,
  serveBytes,
  startFileServer,
  streamBytes,
  type FileServer,
} from '#src/pipeline/testing/fileServer.ts';
import { makeDecompressionBomb, makePng } from '#src/pipeline/testing/media.ts';
import { openTestEventStore } from '#src/testing/completions.ts';
import { filesUnder } from '#src/testing/files.ts';
import { startMediaProcessor, type MediaProcessorUnderTest } from '#src/testing/harness.ts';

const MB = 1024 * 1024;
let files: FileServer;
let events: Awaited<ReturnType<typeof openTestEventStore>>;
let media: MediaProcessorUnderTest;
const undeclared = streamBytes(8 * MB, { declareLength: false });

beforeAll(async () => {
  const png = await makePng(800, 600);
  files = await startFileServer({
    '/good.png': serveBytes(png, 'image/png'),
    '/truncated.png': serveBytes(png.subarray(0, Math.floor(png.length / 2)), 'image/png'),
    '/bomb.png': serveBytes(await makeDecompressionBomb(30_000, { interlaced: true }), 'image/png'),
    '/notes.txt': serveBytes(Buffer.from('this is not a picture\n'.repeat(100)), 'image/png'),
    '/declared-large.png': serveBytes(Buffer.alloc(3 * MB, 1), 'image/png'),
    '/undeclared-large.png': undeclared.route,
    '/hang.png': hang({ afterHeaders: true }),
  });
  events = await openTestEventStore();
  media = await startMediaProcessor(
    { eventStoreSchema: events.schema, identitySchema: `id_${events.schema}` },
    { DOWNLOAD_MAX_BYTES: String(2 * MB), DOWNLOAD_TIMEOUT_MS: '1000', DOWNLOAD_ATTEMPTS: '2' },
  );
});
afterAll(async () => {
  await media.stop();
  await events.drop();
  await files.close();
});

const outcomeOf = async (jobId: string, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await events.store.readStream(jobStreamId(jobId))).find(
      (event) => event.type === 'JobArtifactsStored' || event.type === 'JobFailed',
    );
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`job ${jobId} got no outcome`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe('the media processor fed hostile outputs', () => {
  it('fails each job cleanly with a clear code, and keeps processing good ones', async () => {
    const [truncated, bomb, text, good] = [
      await events.succeeded([files.url('/truncated.png')]),
      await events.succeeded([files.url('/bomb.png')]),
      await events.succeeded([files.url('/notes.txt')]),
      await events.succeeded([files.url('/good.png'), files.url('/good.png')]),
    ];
    expect((await outcomeOf(truncated)).data).toMatchObject({ code: 'output_invalid', retryable: false });
    expect((await outcomeOf(bomb)).data).toMatchObject({ code: 'output_too_large', retryable: false });
    expect((await outcomeOf(text)).data).toMatchObject({ code: 'output_invalid', retryable: false });
    const stored = await outcomeOf(good);
    expect(stored.type).toBe('JobArtifactsStored');

    expect((await fetch(`${media.url}/healthz`)).status).toBe(200);
    expect(await media.metric('kiln_media_processed_total')).toBe(1);
    expect(await media.metric('kiln_media_failed_total', { code: 'output_invalid' })).toBe(2);
    expect(await media.metric('kiln_media_failed_total', { code: 'output_too_large' })).toBe(1);
    // The time of every job is measured, its failures too.
    expect(await media.metric('kiln_media_processing_seconds_count', { outcome: 'stored' })).toBe(1);
    expect(await media.metric('kiln_media_processing_seconds_count', { outcome: 'failed' })).toBe(3);
  });

  it('fails a job whose download is past DOWNLOAD_MAX_BYTES as output_too_large, declared or streamed', async () => {
    const declared = await events.succeeded([files.url('/declared-large.png')]);
    const streamed = await events.succeeded([files.url('/good.png'), files.url('/undeclared-large.png')]);
    expect((await outcomeOf(declared)).data).toMatchObject({ code: 'output_too_large', retryable: false });
    expect((await outcomeOf(streamed)).data).toMatchObject({ code: 'output_too_large', retryable: false });
    await undeclared.report.finished;
    expect(undeclared.report.clientLeftEarly).toBe(true);
    expect(undeclared.report.written).toBeLessThan(8 * MB);
    // Its first output was good and stored; the job failing for good, its files are removed.
    expect(await filesUnder(media.artifactsDir, `jobs/${streamed}`)).toEqual([]);
    expect((await fetch(`${media.url}/healthz`)).status).toBe(200);
  });

  it('fails a job whose download keeps timing out as provider_unavailable, retryable, after its tries', async () => {
    const jobId = await events.succeeded([files.url('/hang.png')]);
    const failed = await outcomeOf(jobId);
    expect(failed.data).toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect(await media.metric('kiln_media_processing_seconds_count', { outcome: 'retried' })).toBe(1);
    expect(await media.metric('kiln_media_failed_total', { code: 'provider_unavailable' })).toBe(1);
  });
});
