import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { DuplicateEventIds } from '#src/errors.ts';
import { createEsdbEventStore } from '#src/esdb/esdbEventStore.ts';
import {
  singleInsecureNode,
  startConnectionCutter,
  throughCutter,
} from '#src/esdb/testing/connectionCutter.ts';
import type { EventStore } from '#src/port.ts';
import { collect } from '#src/testing/collect.ts';
import { eventStoreContract, type StoreUnderTest } from '#src/testing/contractSuite.ts';
import { progressed, progressedEvents, uniqueId } from '#src/testing/events.ts';

/**
 * The contract suite against an EventStoreDB server, when EVENTSTORE_URL names one (for example the one
 * infra/docker-compose.yml starts: EVENTSTORE_URL='esdb://127.0.0.1:2113?tls=false'). Without it,
 * every test here is reported as skipped and nothing connects.
 */
const url = process.env['EVENTSTORE_URL'] ?? '';
const enabled = /^esdb(\+discover)?:\/\//i.test(url);

/**
 * Opens a store on the server. For a single plain-text node the store connects through a TCP proxy
 * that the test can cut; for anything else there is no honest way to cut only its connections, so
 * the dropped-connections test is skipped.
 */
const openStore = async (): Promise<StoreUnderTest> => {
  const target = singleInsecureNode(url);
  const cutter = target ? await startConnectionCutter(target) : undefined;
  const store = await createEsdbEventStore<KilnEvent>({
    connectionString: cutter ? throughCutter(url, cutter.port) : url,
  });
  return {
    store,
    canDropConnections: cutter !== undefined,
    dropConnections: () => Promise.resolve(cutter ? cutter.dropConnections() : 0),
    dispose: async () => {
      await store.close();
      await cutter?.close();
    },
  };
};

describe.runIf(enabled)('EventStoreDB adapter', () => {
  eventStoreContract('EventStoreDB', openStore);

  describe('EventStoreDB specifics', () => {
    let subject: StoreUnderTest;
    let store: EventStore<KilnEvent>;
    beforeAll(async () => {
      subject = await openStore();
      store = subject.store;
    });
    afterAll(async () => subject.dispose());

    it('answers a retried append with `any` as a retry, at the first answer', async () => {
      const jobId = uniqueId();
      const events = progressedEvents(jobId, 2);
      const first = await store.appendToStream(`job-${jobId}`, events);
      const retry = await store.appendToStream(`job-${jobId}`, events);
      expect(retry).toEqual({ ...first, appended: false });
      expect((await store.readStream(`job-${jobId}`)).length).toBe(2);
    });

    it('refuses an append whose events were partly stored before', async () => {
      const jobId = uniqueId();
      const [first, second] = progressedEvents(jobId, 2) as [KilnEvent, KilnEvent];
      await store.appendToStream(`job-${jobId}`, [first], { expectedRevision: 'no_stream' });
      await expect(
        store.appendToStream(`job-${jobId}`, [first, second], { expectedRevision: 'no_stream' }),
      ).rejects.toBeInstanceOf(DuplicateEventIds);
      expect((await store.readStream(`job-${jobId}`)).length).toBe(1);
    });

    it('reads $all after the head as empty, and from a position strictly after it', async () => {
      const jobId = uniqueId();
      const { position } = await store.appendToStream(`job-${jobId}`, [progressed(jobId, 0)]);
      expect(await store.readAll({ after: position, maxCount: 10 })).toEqual([]);
      const later = await store.appendToStream(`job-${jobId}`, [progressed(jobId, 1)]);
      expect((await store.readAll({ after: position, maxCount: 10 })).map((event) => event.position)).toEqual(
        [later.position],
      );
    });

    it('resumes a stream subscription after dropped connections without losing or repeating events', async (context) => {
      context.skip(
        !subject.canDropConnections,
        'this EVENTSTORE_URL cannot be routed through the connection cutter',
      );
      const jobId = uniqueId();
      const stream = `job-${jobId}`;
      const { done } = collect(store.subscribeToStream(stream), (seen) => seen.length >= 12, 30_000);
      for (let index = 0; index < 12; index += 1) {
        if (index % 4 === 2) expect(await subject.dropConnections()).toBeGreaterThan(0);
        // One event per revision, sent again as is when a dropped connection leaves the answer unknown.
        const event = progressed(jobId, index / 12);
        for (let attempt = 1; ; attempt += 1) {
          try {
            await store.appendToStream(stream, [event], {
              expectedRevision: index === 0 ? 'no_stream' : index - 1,
            });
            break;
          } catch (error) {
            if (attempt >= 5) throw error;
            await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          }
        }
      }
      expect((await done).map((event) => event.revision)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    });
  });
});
