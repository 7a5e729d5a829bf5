import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicEventId } from '@kiln/contracts/event-ids';
import { jobStreamId } from '@kiln/contracts/streams';
import { gatedBytes, startFileServer, type FileServer } from '#src/pipeline/testing/fileServer.ts';
import { makePng } from '#src/pipeline/testing/media.ts';
import { recordOutcome } from '#src/processing/jobOutcome.ts';
import { openTestEventStore } from '#src/testing/completions.ts';
import { filesUnder } from '#src/testing/files.ts';
import { startMediaProcessor, type MediaProcessorUnderTest } from '#src/testing/harness.ts';
import { waitUntil } from '#src/testing/waitUntil.ts';

let gate: ReturnType<typeof gatedBytes>;
let files: FileServer;
let events: Awaited<ReturnType<typeof openTestEventStore>>;
let sharedStore: string;
let first: MediaProcessorUnderTest;
let second: MediaProcessorUnderTest;

beforeAll(async () => {
  gate = gatedBytes(await makePng(800, 600), 'image/png');
  files = await startFileServer({ '/held.png': gate.route });
  events = await openTestEventStore();
  sharedStore = await mkdtemp(join(tmpdir(), 'kiln-media-twice-'));
  // Two instances on one event store and one media store, each with its own work list: each one gets
  // every completion, as after a restart that lost the checkpoint or a duplicate event.
  const schemas = { eventStoreSchema: events.schema, identitySchema: `id_${events.schema}` };
  first = await startMediaProcessor(schemas, { MEDIA_STORE: sharedStore });
  second = await startMediaProcessor(schemas, { MEDIA_STORE: sharedStore });
});
afterAll(async () => {
  while (gate.holding > 0) gate.releaseOne();
  await Promise.all([first.stop(), second.stop()]);
  await events.drop();
  await files.close();
  await rm(sharedStore, { recursive: true, force: true });
});

const artifactEvents = async (jobId: string) =>
  (await events.store.readStream(jobStreamId(jobId))).filter((event) => event.type === 'JobArtifactsStored');

describe('the same completion processed twice at once', () => {
  it('stores one artifact set on disk and appends one event', { timeout: 90_000 }, async () => {
    const jobId = await events.succeeded([files.url('/held.png'), files.url('/held.png')]);
    // Both instances have found the job still waiting for its artifacts and are downloading its output.
    await waitUntil('both instances downloading', () => gate.holding === 2);
    while (gate.requests < 4 || gate.holding > 0) {
      gate.releaseOne();
      await waitUntil('the next download', () => gate.holding > 0 || gate.requests === 4);
    }
    await waitUntil('both instances done', async () => {
      const [a, b] = await Promise.all([first.processor.pending.depth(), second.processor.pending.depth()]);
      const inFlight =
        (await first.metric('kiln_media_in_flight')) + (await second.metric('kiln_media_in_flight'));
      return a + b === 0 && inFlight === 0;
    });

    const stored = await artifactEvents(jobId);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.id).toBe(deterministicEventId(`media/${jobId}/artifacts`));
    if (stored[0]?.type !== 'JobArtifactsStored') throw new Error('no artifacts');
    const keys = stored[0].data.artifacts.map((artifact) => artifact.storageKey).sort();
    expect(keys).toHaveLength(6);
    // One file per artifact of the one event, and nothing else: the second instance wrote the same keys.
    expect(await filesUnder(sharedStore)).toEqual(keys);
  });

  it('answers both verdicts given from the same revision as recorded, with one event', async () => {
    const jobId = await events.succeeded([files.url('/held.png')]);
    const revision = (await events.store.readStream(jobStreamId(jobId))).length - 1;
    const outcome = { kind: 'failed', code: 'output_invalid', message: 'bad', retryable: false } as const;
    const context = { correlationId: 'twice', causeId: 'twice' };
    const answers = await Promise.all([
      recordOutcome(events.store, jobId, outcome, context, revision),
      recordOutcome(events.store, jobId, outcome, context, revision),
    ]);
    expect(answers).toEqual(['recorded', 'recorded']);
    const failed = (await events.store.readStream(jobStreamId(jobId))).filter((e) => e.type === 'JobFailed');
    expect(failed.map((event) => event.id)).toEqual([deterministicEventId(`media/${jobId}/failed`)]);
  });
});
