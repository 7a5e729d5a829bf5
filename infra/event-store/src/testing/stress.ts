import type { KilnEvent } from '@kiln/contracts/events';
import { comparePositions, type Position } from '@kiln/contracts/position';
import type { EventStore } from '#src/port.ts';
import { progressed, uniqueId } from '#src/testing/events.ts';

export type StressReport = {
  appended: number;
  /** Events of the writers' streams the subscriber saw before the end marker; a repeat counts again. */
  delivered: number;
  /** Events delivered with a revision other than the next one of their stream: a duplicate or a gap. */
  outOfStreamOrder: number;
  /** Events delivered at a global position not after the one before. */
  outOfGlobalOrder: number;
  seconds: number;
};

/**
 * Concurrent writers, each appending to a stream of its own at exact revisions, and one live subscriber
 * to `$all` from before the first append. The subscriber must see every event exactly once: each
 * stream's revisions 0, 1, 2… with no gap or repeat, at strictly increasing global positions. Once the
 * writers are done, one more event goes to an end-marker stream, and the subscriber reads on until that
 * event: a repeat delivered after the last expected event is counted too. Memory is one counter per
 * stream, so the run can go to millions of events.
 */
export const runStress = async (
  store: EventStore<KilnEvent>,
  options: {
    writers: number;
    eventsPerWriter: number;
    onProgress?: (delivered: number, total: number) => void;
  },
): Promise<StressReport> => {
  const total = options.writers * options.eventsPerWriter;
  const jobIds = Array.from({ length: options.writers }, () => uniqueId('stress'));
  const nextRevision = new Map(jobIds.map((jobId) => [`job-${jobId}`, 0]));
  const endMarkerJobId = uniqueId('stressend');
  const endMarker = progressed(endMarkerJobId, 1);
  const start = await store.headPosition();
  const subscription = store.subscribeToAll(start ? { after: start } : {});
  const report: StressReport = {
    appended: 0,
    delivered: 0,
    outOfStreamOrder: 0,
    outOfGlobalOrder: 0,
    seconds: 0,
  };
  const began = performance.now();

  const subscriber = (async () => {
    let previous: Position | undefined;
    for await (const event of subscription) {
      if (event.id === endMarker.id) break;
      const expected = nextRevision.get(event.streamId);
      if (expected === undefined) continue;
      if (event.revision !== expected) report.outOfStreamOrder += 1;
      nextRevision.set(event.streamId, event.revision + 1);
      if (previous !== undefined && comparePositions(previous, event.position) >= 0)
        report.outOfGlobalOrder += 1;
      previous = event.position;
      report.delivered += 1;
      if (report.delivered % 10_000 === 0) options.onProgress?.(report.delivered, total);
    }
  })();

  await Promise.all(
    jobIds.map(async (jobId) => {
      let expectedRevision: number | 'no_stream' = 'no_stream';
      for (let index = 0; index < options.eventsPerWriter; index += 1) {
        const result = await store.appendToStream(
          `job-${jobId}`,
          [progressed(jobId, index / options.eventsPerWriter)],
          {
            expectedRevision,
          },
        );
        expectedRevision = result.nextExpectedRevision;
        report.appended += 1;
      }
    }),
  );
  await store.appendToStream(`job-${endMarkerJobId}`, [endMarker], { expectedRevision: 'no_stream' });
  const deadline = setTimeout(() => void subscription.close(), 60_000);
  await subscriber;
  clearTimeout(deadline);
  await subscription.close();
  report.seconds = (performance.now() - began) / 1000;
  return report;
};
