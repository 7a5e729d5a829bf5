import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { comparePositions } from '@kiln/contracts/position';
import { DuplicateEventIds } from '#src/errors.ts';
import type { EventStore } from '#src/port.ts';
import { createAppender } from '#src/postgres/append.ts';
import { createPostgresEventStore } from '#src/postgres/postgresEventStore.ts';
import { eventStoreContract } from '#src/testing/contractSuite.ts';
import { progressed, progressedEvents, uniqueId } from '#src/testing/events.ts';
import { runStress } from '#src/testing/stress.ts';
import { postgresTestUrl } from '#src/testing/postgresTestUrl.ts';

const url = postgresTestUrl();

/** A store in a schema of its own, and an admin connection to cut its connections and drop it after. */
const openIsolatedStore = async (options: { batchSize?: number } = {}) => {
  const schema = `es_${uniqueId().toLowerCase()}`;
  const applicationName = `kiln-test-${schema}`;
  const store = await createPostgresEventStore<KilnEvent>({
    connectionString: url,
    schema,
    applicationName,
    ...options,
  });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  return {
    schema,
    store,
    admin,
    dropConnections: async () => {
      const result = await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [applicationName],
      );
      return result.rowCount ?? 0;
    },
    dispose: async () => {
      await store.close();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
};

eventStoreContract('PostgreSQL', openIsolatedStore);

describe('PostgreSQL event store: positions under concurrent writers', () => {
  let subject: Awaited<ReturnType<typeof openIsolatedStore>>;
  let store: EventStore<KilnEvent>;
  beforeAll(async () => {
    subject = await openIsolatedStore();
    store = subject.store;
  });
  afterAll(async () => subject.dispose());

  it('never lets a reader pass an event that commits late', async () => {
    const [slow, fast] = [uniqueId(), uniqueId()];
    // A writer takes its place in $all first, and is slow to commit.
    const slowWriter = new pg.Client({ connectionString: url });
    await slowWriter.connect();
    await slowWriter.query('begin');
    await createAppender(slowWriter, subject.schema)(`job-${slow}`, [progressed(slow, 0)], 'any');
    // Another writer commits while the first is still open.
    await store.appendToStream(`job-${fast}`, [progressed(fast, 0)]);

    const seenWhileOpen = await store.readAll({ maxCount: 10_000 });
    expect(seenWhileOpen.some((event) => event.streamId === `job-${fast}`)).toBe(false);
    const passed = seenWhileOpen.at(-1)?.position;

    await slowWriter.query('commit');
    await slowWriter.end();
    const seenAfter = await store.readAll({ maxCount: 10_000 });
    const newlySeen = seenAfter.filter((event) => !seenWhileOpen.some((old) => old.id === event.id));
    expect(newlySeen.map((event) => event.streamId)).toEqual([`job-${slow}`, `job-${fast}`]);
    if (passed) {
      for (const event of newlySeen) expect(comparePositions(event.position, passed)).toBeGreaterThan(0);
    }
  });

  it('orders $all by transaction id as a number, not as text', async () => {
    const [early, late] = [uniqueId(), uniqueId()];
    for (const [xid, jobId] of [
      ['10', late],
      ['9', early],
    ] as const) {
      const event = progressed(jobId, 0);
      await subject.admin.query(
        `insert into ${subject.schema}.events (transaction_id, event_id, stream_id, stream_revision, type, event)
         values ($1::xid8, $2, $3, 0, $4, $5)`,
        [xid, event.id, `job-${jobId}`, event.type, JSON.stringify(event)],
      );
    }
    const first = await store.readAll({ maxCount: 2 });
    expect(first.map((event) => event.streamId)).toEqual([`job-${early}`, `job-${late}`]);
  });

  it('refuses an append whose events were partly stored before', async () => {
    const jobId = uniqueId();
    const [first, second] = progressedEvents(jobId, 2) as [KilnEvent, KilnEvent];
    await store.appendToStream(`job-${jobId}`, [first]);
    await expect(store.appendToStream(`job-${jobId}`, [first, second])).rejects.toBeInstanceOf(
      DuplicateEventIds,
    );
    expect((await store.readStream(`job-${jobId}`)).length).toBe(1);
  });

  it('answers racing retries of one append as one append', async () => {
    const jobId = uniqueId();
    const events = progressedEvents(jobId, 3);
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        store.appendToStream(`job-${jobId}`, events, { expectedRevision: 'any' }),
      ),
    );
    expect(results.filter((result) => result.appended)).toHaveLength(1);
    expect(new Set(results.map((result) => result.position)).size).toBe(1);
    expect((await store.readStream(`job-${jobId}`)).length).toBe(3);
  });
});

describe('PostgreSQL event store: stress', () => {
  it('16 concurrent writers and a live subscriber: every event seen exactly once, in global order', async () => {
    const subject = await openIsolatedStore();
    try {
      const report = await runStress(subject.store, { writers: 16, eventsPerWriter: 250 });
      expect(report).toMatchObject({
        appended: 4000,
        delivered: 4000,
        outOfStreamOrder: 0,
        outOfGlobalOrder: 0,
      });
    } finally {
      await subject.dispose();
    }
  });
});
