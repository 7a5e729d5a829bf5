import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import type { EventStore, ExpectedRevision } from '#src/port.ts';
import { createAppender } from '#src/postgres/append.ts';
import { createPostgresEventStore } from '#src/postgres/postgresEventStore.ts';
import { collect } from '#src/testing/collect.ts';
import { progressed, uniqueId } from '#src/testing/events.ts';
import { postgresTestUrl } from '#src/testing/postgresTestUrl.ts';

const url = postgresTestUrl();
/** Far longer than any test here runs: a reader that waits for its poll never gets the event in time. */
const NEVER_MS = 10 * 60_000;
const DELIVERY_TIMEOUT_MS = 20_000;

/**
 * Two stores on one schema, as two processes would open it: the writer's appends reach the reader only
 * through PostgreSQL (a NOTIFY, or the reader's own poll), never in-process.
 */
describe('PostgreSQL event store: live delivery across store instances', () => {
  let schema: string;
  let admin: pg.Client;
  let opened: EventStore<KilnEvent>[];

  const openStore = async (name: string, pollIntervalMs: number, notifyEveryMs?: number) => {
    const applicationName = `kiln-test-${schema}-${name}`;
    const store = await createPostgresEventStore<KilnEvent>({
      connectionString: url,
      schema,
      applicationName,
      pollIntervalMs,
      ...(notifyEveryMs === undefined ? {} : { notifyEveryMs }),
    });
    opened.push(store);
    return { store, applicationName };
  };

  /** The reader's LISTEN has been answered: from now on, only a notification or a poll wakes it. */
  const waitUntilListening = (applicationName: string) =>
    vi.waitFor(
      async () => {
        const result = await admin.query<{ listening: number }>(
          `select count(*)::int as listening from pg_stat_activity
           where application_name = $1 and state = 'idle' and query ilike 'listen %'`,
          [applicationName],
        );
        expect(result.rows[0]?.listening).toBe(1);
      },
      { timeout: DELIVERY_TIMEOUT_MS, interval: 50 },
    );

  beforeEach(async () => {
    schema = `es_${uniqueId().toLowerCase()}`;
    opened = [];
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });

  afterEach(async () => {
    await Promise.all(opened.map((store) => store.close()));
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  });

  /**
   * Appends the events one at a time, each only once the reader has the one before. The reader is then
   * waiting, and only a notification or its poll can wake it: a first event could still meet a read that
   * was under way, the ones after cannot.
   */
  const deliverOneByOne = async (
    reader: EventStore<KilnEvent>,
    readerName: string,
    append: (streamId: string, event: KilnEvent, expectedRevision: ExpectedRevision) => Promise<unknown>,
  ) => {
    const jobId = uniqueId();
    const events = [0, 0.5, 1].map((progress) => progressed(jobId, progress));
    const { seen, done } = collect(
      reader.subscribeToAll(),
      (delivered) => delivered.length === events.length,
      DELIVERY_TIMEOUT_MS * events.length,
    );
    await waitUntilListening(readerName);
    for (const [index, event] of events.entries()) {
      await append(`job-${jobId}`, event, index === 0 ? 'no_stream' : index - 1);
      await vi.waitFor(() => expect(seen.map((seenEvent) => seenEvent.id)).toContain(event.id), {
        timeout: DELIVERY_TIMEOUT_MS,
        interval: 20,
      });
    }
    expect((await done).map((event) => event.id)).toEqual(events.map((event) => event.id));
  };

  it('wakes a reader in another store by NOTIFY, long before its poll would', async () => {
    const writer = await openStore('writer', NEVER_MS);
    const reader = await openStore('reader', NEVER_MS);
    await deliverOneByOne(reader.store, reader.applicationName, (streamId, event, expectedRevision) =>
      writer.store.appendToStream(streamId, [event], { expectedRevision }),
    );
  });

  it('still delivers, by its poll, events that no notification announced', async () => {
    const reader = await openStore('reader', 250);
    // Written the way the store's appender writes, straight into the table, with no NOTIFY after it.
    const silentWriter = new pg.Client({ connectionString: url });
    await silentWriter.connect();
    try {
      const append = createAppender(silentWriter, schema);
      await deliverOneByOne(reader.store, reader.applicationName, (streamId, event, expectedRevision) =>
        append(streamId, [event], expectedRevision),
      );
    } finally {
      await silentWriter.end();
    }
  });

  it('notifies at once after a quiet spell, then once per window through a burst', async () => {
    const windowMs = 3_000;
    const writer = await openStore('writer', NEVER_MS, windowMs);
    const notified: number[] = [];
    admin.on('notification', () => notified.push(performance.now()));
    await admin.query(`listen "${schema}_appended"`);
    const jobId = uniqueId();
    const appendedAt = performance.now();
    await writer.store.appendToStream(`job-${jobId}`, [progressed(jobId, 0)]);
    // A trailing window would make this first NOTIFY wait the whole window.
    await vi.waitFor(() => expect(notified).toHaveLength(1), { timeout: windowMs - 500, interval: 10 });
    expect(notified[0]! - appendedAt).toBeLessThan(windowMs);
    for (let index = 1; index <= 5; index += 1)
      await writer.store.appendToStream(`job-${jobId}`, [progressed(jobId, index / 10)]);
    await vi.waitFor(() => expect(notified).toHaveLength(2), { timeout: 2 * windowMs, interval: 20 });
    // The burst's five appends shared the one NOTIFY at the end of the window.
    expect(notified[1]! - notified[0]!).toBeGreaterThanOrEqual(windowMs - 50);
  });
});
