import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { comparePositions } from '@kiln/contracts/position';
import { EventRejected, WrongExpectedRevision } from '#src/errors.ts';
import type { EventStore, RecordedEvent } from '#src/port.ts';
import { collect } from '#src/testing/collect.ts';
import { progressed, progressedEvents, uniqueId } from '#src/testing/events.ts';

export type StoreUnderTest = {
  store: EventStore<KilnEvent>;
  /** Cuts every connection the store holds, as a database restart or a network fault would; says how many. */
  dropConnections: () => Promise<number>;
  /** False when the adapter's test has no honest way to cut its connections: that test is then skipped. */
  canDropConnections?: boolean;
  dispose: () => Promise<void>;
};

const idsOf = (events: { id: string }[]) => events.map((event) => event.id);
const isIncreasing = (events: RecordedEvent[]) =>
  events.every(
    (event, index) => index === 0 || comparePositions(events[index - 1]!.position, event.position) < 0,
  );

/**
 * The behaviour every event store adapter must have. Each adapter's test file calls this with a way to
 * open its store; streams get unique names, so the suite runs against a shared server.
 */
export const eventStoreContract = (adapterName: string, open: () => Promise<StoreUnderTest>): void => {
  describe(`event store contract: ${adapterName}`, () => {
    let subject: StoreUnderTest;
    let store: EventStore<KilnEvent>;
    beforeAll(async () => {
      subject = await open();
      store = subject.store;
    });
    afterAll(async () => subject.dispose());

    describe('append and read a stream', () => {
      it('stores a new stream with revisions from 0, and reads it back in order', async () => {
        const jobId = uniqueId();
        const events = progressedEvents(jobId, 3);
        const result = await store.appendToStream(`job-${jobId}`, events, { expectedRevision: 'no_stream' });
        expect(result).toMatchObject({ nextExpectedRevision: 2, appended: true });
        const read = await store.readStream(`job-${jobId}`);
        expect(idsOf(read)).toEqual(idsOf(events));
        expect(read.map((event) => event.revision)).toEqual([0, 1, 2]);
        expect(read.map((event) => event.data)).toEqual(events.map((event) => event.data));
        expect(read[2]?.position).toBe(result.position);
      });

      it('reads an unknown stream as empty, and from a revision on', async () => {
        expect(await store.readStream(`job-${uniqueId()}`)).toEqual([]);
        const jobId = uniqueId();
        await store.appendToStream(`job-${jobId}`, progressedEvents(jobId, 5));
        const tail = await store.readStream(`job-${jobId}`, { fromRevision: 3 });
        expect(tail.map((event) => event.revision)).toEqual([3, 4]);
        expect((await store.readStream(`job-${jobId}`, { fromRevision: 1, maxCount: 2 })).length).toBe(2);
      });

      it('reads a stream as JSON text that parses to the very events readStream gives', async () => {
        const jobId = uniqueId();
        await store.appendToStream(`job-${jobId}`, progressedEvents(jobId, 5));
        const events = await store.readStream(`job-${jobId}`, { fromRevision: 1, maxCount: 3 });
        const encoded = await store.readStreamEncoded(`job-${jobId}`, { fromRevision: 1, maxCount: 3 });
        expect(encoded.map(({ position, revision }) => ({ position, revision }))).toEqual(
          events.map(({ position, revision }) => ({ position, revision })),
        );
        expect(encoded.map((event) => JSON.parse(event.json) as unknown)).toEqual(events);
        expect(await store.readStreamEncoded(`job-${uniqueId()}`)).toEqual([]);
      });

      it('finds the revisions of a stream within a range of positions, between other streams', async () => {
        const jobId = uniqueId();
        const other = uniqueId();
        const stream = `job-${jobId}`;
        for (let index = 0; index < 4; index += 1) {
          await store.appendToStream(stream, [progressed(jobId, index / 4)]);
          await store.appendToStream(`job-${other}`, [progressed(other, index / 4)]);
        }
        const mine = await store.readStream(stream);
        const theirs = await store.readStream(`job-${other}`);
        const at = (index: number) => mine[index]!.position;
        expect(await store.revisionRange(stream, {})).toEqual({ first: 0, last: 3 });
        expect(await store.revisionRange(stream, { after: at(0), upTo: at(2) })).toEqual({
          first: 1,
          last: 2,
        });
        // Bounds that are other streams' positions fall between this stream's events.
        expect(await store.revisionRange(stream, { after: theirs[1]!.position })).toEqual({
          first: 2,
          last: 3,
        });
        expect(await store.revisionRange(stream, { upTo: theirs[0]!.position })).toEqual({
          first: 0,
          last: 0,
        });
        expect(await store.revisionRange(stream, { after: at(3) })).toBeNull();
        expect(await store.revisionRange(`job-${uniqueId()}`, {})).toBeNull();
      });
    });

    describe('optimistic concurrency', () => {
      it('appends at the exact expected revision', async () => {
        const jobId = uniqueId();
        const first = await store.appendToStream(`job-${jobId}`, [progressed(jobId, 0)], {
          expectedRevision: 'no_stream',
        });
        const second = await store.appendToStream(`job-${jobId}`, [progressed(jobId, 0.5)], {
          expectedRevision: first.nextExpectedRevision,
        });
        expect(second.nextExpectedRevision).toBe(1);
      });

      it('rejects a stale revision with a typed conflict and writes nothing', async () => {
        const jobId = uniqueId();
        const stream = `job-${jobId}`;
        await store.appendToStream(stream, progressedEvents(jobId, 2), { expectedRevision: 'no_stream' });
        await expect(
          store.appendToStream(stream, [progressed(jobId, 1)], { expectedRevision: 0 }),
        ).rejects.toBeInstanceOf(WrongExpectedRevision);
        await expect(
          store.appendToStream(stream, [progressed(jobId, 1)], { expectedRevision: 'no_stream' }),
        ).rejects.toBeInstanceOf(WrongExpectedRevision);
        await expect(
          store.appendToStream(`job-${uniqueId()}`, [progressed(jobId, 1)], { expectedRevision: 4 }),
        ).rejects.toBeInstanceOf(WrongExpectedRevision);
        expect((await store.readStream(stream)).length).toBe(2);
      });

      it('lets exactly one of many concurrent writers at one revision win', async () => {
        const jobId = uniqueId();
        const stream = `job-${jobId}`;
        await store.appendToStream(stream, [progressed(jobId, 0)], { expectedRevision: 'no_stream' });
        const attempts = await Promise.allSettled(
          Array.from({ length: 8 }, (_, index) =>
            store.appendToStream(stream, [progressed(jobId, index / 10)], { expectedRevision: 0 }),
          ),
        );
        expect(attempts.filter((attempt) => attempt.status === 'fulfilled')).toHaveLength(1);
        for (const attempt of attempts.filter((a) => a.status === 'rejected')) {
          expect(attempt.reason).toBeInstanceOf(WrongExpectedRevision);
        }
        expect((await store.readStream(stream)).length).toBe(2);
      });
    });

    describe('idempotent appends', () => {
      it('stores an event id once: a retried append answers the same and appends nothing', async () => {
        const jobId = uniqueId();
        const stream = `job-${jobId}`;
        const events = progressedEvents(jobId, 2);
        const first = await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
        const retry = await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
        expect(retry).toEqual({ ...first, appended: false });
        expect(idsOf(await store.readStream(stream))).toEqual(idsOf(events));
      });
    });

    describe('validation', () => {
      it('refuses an event that fails its schema before anything is written', async () => {
        const jobId = uniqueId();
        const stream = `job-${jobId}`;
        const bad = {
          ...progressed(jobId, 0.5),
          data: { jobId, step: 'x', progress: 7 },
        } as unknown as KilnEvent;
        await expect(store.appendToStream(stream, [progressed(jobId, 0), bad])).rejects.toBeInstanceOf(
          EventRejected,
        );
        const billingEvent = { ...progressed(jobId, 0.1) };
        await expect(store.appendToStream(`billing-${jobId}`, [billingEvent])).rejects.toBeInstanceOf(
          EventRejected,
        );
        expect(await store.readStream(stream)).toEqual([]);
        expect(await store.readStream(`billing-${jobId}`)).toEqual([]);
      });
    });

    describe('$all', () => {
      it('reads every stream in global order after a position', async () => {
        const start = await store.headPosition();
        const [a, b] = [uniqueId(), uniqueId()];
        await store.appendToStream(`job-${a}`, [progressed(a, 0)]);
        await store.appendToStream(`job-${b}`, [progressed(b, 0)]);
        const last = await store.appendToStream(`job-${a}`, [progressed(a, 1)]);
        const readOurs = async () =>
          (await store.readAll(start ? { after: start, maxCount: 10_000 } : { maxCount: 10_000 })).filter(
            (event) => event.streamId === `job-${a}` || event.streamId === `job-${b}`,
          );
        // Readers see an event once every transaction older than its own has ended, on the whole server
        // (PostgreSQL: other schemas' writers too), so a just-written event shows up soon, not at once.
        await expect.poll(async () => (await readOurs()).length, { timeout: 15_000 }).toBe(3);
        const ours = await readOurs();
        expect(ours.map((event) => `${event.streamId}@${event.revision}`)).toEqual([
          `job-${a}@0`,
          `job-${b}@0`,
          `job-${a}@1`,
        ]);
        expect(isIncreasing(ours)).toBe(true);
        await expect.poll(() => store.headPosition(), { timeout: 15_000 }).toBe(last.position);
        const afterFirst = await store.readAll({ after: ours[0]!.position, maxCount: 10_000 });
        expect(afterFirst.some((event) => event.id === ours[0]!.id)).toBe(false);
        expect(afterFirst.some((event) => event.id === ours[1]!.id)).toBe(true);
      });

      it('counts the events after a position', async () => {
        const start = await store.headPosition();
        const before = await store.countAll();
        const jobId = uniqueId();
        await store.appendToStream(`job-${jobId}`, progressedEvents(jobId, 3));
        await expect.poll(() => store.countAll(), { timeout: 15_000 }).toBeGreaterThanOrEqual(before + 3);
        if (start) expect(await store.countAll({ after: start })).toBeGreaterThanOrEqual(3);
        const [first] = await store.readStream(`job-${jobId}`);
        expect(await store.countAll({ after: first!.position })).toBeGreaterThanOrEqual(2);
        expect(await store.countAll({ after: (await store.headPosition())! })).toBe(0);
      });
    });

    describe('subscriptions', () => {
      it('catches up on $all, then goes live, with no gap or duplicate at the seam', async () => {
        const jobId = uniqueId();
        const stream = `job-${jobId}`;
        const start = await store.headPosition();
        const before = progressedEvents(jobId, 20);
        await store.appendToStream(stream, before);
        const expected = 60;
        const subscription = store.subscribeToAll(start ? { after: start } : {});
        const { done } = collect(
          subscription,
          (seen) => seen.filter((e) => e.streamId === stream).length >= expected,
        );
        for (let index = 0; index < 40; index += 1) {
          await store.appendToStream(stream, [progressed(jobId, index / 40)]);
        }
        const ours = (await done).filter((event) => event.streamId === stream);
        expect(ours.map((event) => event.revision)).toEqual(Array.from({ length: expected }, (_, i) => i));
        expect(isIncreasing(ours)).toBe(true);
      });

      it('subscribes to one stream after a revision, then live', async () => {
        const jobId = uniqueId();
        const stream = `job-${jobId}`;
        await store.appendToStream(stream, progressedEvents(jobId, 5));
        const other = uniqueId();
        const subscription = store.subscribeToStream(stream, { afterRevision: 2 });
        const { done } = collect(subscription, (seen) => seen.length >= 6);
        await store.appendToStream(`job-${other}`, [progressed(other, 0)]);
        await store.appendToStream(stream, progressedEvents(jobId, 4));
        const seen = await done;
        expect(seen.map((event) => event.revision)).toEqual([3, 4, 5, 6, 7, 8]);
        expect(seen.every((event) => event.streamId === stream)).toBe(true);
      });

      it('an Observable subscription delivers the same events', async () => {
        const jobId = uniqueId();
        const stream = `job-${jobId}`;
        const received: number[] = [];
        const observed = new Promise<void>((resolve, reject) => {
          const handle = store
            .subscribeToStream(stream)
            .asObservable()
            .subscribe({
              next: (event) => {
                received.push(event.revision);
                if (received.length === 3) {
                  handle.unsubscribe();
                  resolve();
                }
              },
              error: reject,
            });
        });
        await store.appendToStream(stream, progressedEvents(jobId, 3));
        await observed;
        expect(received).toEqual([0, 1, 2]);
      });

      it('survives dropped connections and resumes from the last delivered event', async (context) => {
        context.skip(
          subject.canDropConnections === false,
          `${adapterName} cannot cut its connections in this set-up`,
        );
        const jobId = uniqueId();
        const stream = `job-${jobId}`;
        const start = await store.headPosition();
        const total = 30;
        const { done } = collect(
          store.subscribeToAll(start ? { after: start } : {}),
          (seen) => seen.filter((event) => event.streamId === stream).length >= total,
          30_000,
        );
        for (let index = 0; index < total; index += 1) {
          if (index % 10 === 5) expect(await subject.dropConnections()).toBeGreaterThan(0);
          await appendSurvivingDrops(store, stream, progressed(jobId, index / total));
        }
        const ours = (await done).filter((event) => event.streamId === stream);
        expect(ours.map((event) => event.revision)).toEqual(Array.from({ length: total }, (_, i) => i));
      });
    });
  });
};

/** A writer that outlives a dropped connection the way a command handler would: by trying again. */
const appendSurvivingDrops = async (store: EventStore<KilnEvent>, stream: string, event: KilnEvent) => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await store.appendToStream(stream, [event]);
    } catch (error) {
      if (attempt >= 5) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
};
