import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamId } from '@kiln/contracts/streams';
import { gatedBytes, startFileServer, type FileServer } from '#src/pipeline/testing/fileServer.ts';
import { makePng } from '#src/pipeline/testing/media.ts';
import { openTestEventStore } from '#src/testing/completions.ts';
import { startMediaProcessor, type MediaProcessorUnderTest } from '#src/testing/harness.ts';
import { waitUntil } from '#src/testing/waitUntil.ts';

const BURST = 8;
/** MEDIA_CONCURRENCY 2 (images made at once) × JOBS_PER_MAKING_SLOT 2. */
const JOBS_AT_ONCE = 4;
let gate: ReturnType<typeof gatedBytes>;
let files: FileServer;
let events: Awaited<ReturnType<typeof openTestEventStore>>;
let media: MediaProcessorUnderTest;

beforeAll(async () => {
  gate = gatedBytes(await makePng(800, 600), 'image/png');
  files = await startFileServer({ '/held.png': gate.route });
  events = await openTestEventStore();
  // The defaults: MEDIA_CONCURRENCY 2, SHARP_CONCURRENCY 1.
  media = await startMediaProcessor({
    eventStoreSchema: events.schema,
    identitySchema: `id_${events.schema}`,
  });
});
afterAll(async () => {
  while (gate.holding > 0) gate.releaseOne();
  await media.stop();
  await events.drop();
  await files.close();
});

const storedCount = async (jobIds: string[]) => {
  const streams = await Promise.all(jobIds.map((jobId) => events.store.readStream(jobStreamId(jobId))));
  return streams.filter((stream) => stream.some((event) => event.type === 'JobArtifactsStored')).length;
};

describe('a burst of completions', () => {
  it('runs sharp without its cache and with one libvips thread per image', () => {
    expect(sharp.cache()).toMatchObject({ memory: { max: 0 }, files: { max: 0 }, items: { max: 0 } });
    expect(sharp.concurrency()).toBe(1);
  });

  it('is taken four jobs at a time while the rest waits on the work list', { timeout: 120_000 }, async () => {
    const jobIds: string[] = [];
    for (let job = 0; job < BURST; job += 1) jobIds.push(await events.succeeded([files.url('/held.png')]));

    // Four downloads held, and the worker has looked at its list since: the other four wait there.
    await waitUntil('four downloads held', () => gate.holding === JOBS_AT_ONCE);
    await waitUntil(
      'the metrics to show 4 in flight and the rest waiting',
      async () =>
        (await media.metric('kiln_media_in_flight')) === JOBS_AT_ONCE &&
        (await media.metric('kiln_media_queue_depth')) === BURST - JOBS_AT_ONCE,
    );
    expect(gate.requests).toBe(JOBS_AT_ONCE);
    expect(await media.metric('kiln_media_making')).toBe(0);

    // One answer at a time: each job goes on to be made and stored, freeing its slot for the next.
    for (let released = 0; released < BURST; released += 1) {
      gate.releaseOne();
      const expected = Math.min(BURST, released + JOBS_AT_ONCE + 1);
      await waitUntil(`download ${expected} to arrive`, () => gate.requests === expected);
    }
    await waitUntil('every job stored', async () => (await storedCount(jobIds)) === BURST, 60_000);
    expect(gate.mostHeldAtOnce).toBe(JOBS_AT_ONCE);
    expect(gate.requests).toBe(BURST);
    await waitUntil('the list to be empty', async () => (await media.metric('kiln_media_queue_depth')) === 0);
    expect(await media.metric('kiln_media_in_flight')).toBe(0);
    expect(await media.metric('kiln_media_processed_total')).toBe(BURST);
    expect(await media.metric('kiln_media_processing_seconds_count', { outcome: 'stored' })).toBe(BURST);
  });
});
