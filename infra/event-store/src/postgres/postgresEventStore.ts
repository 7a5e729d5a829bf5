import pg from 'pg';
import { filter } from 'rxjs';
import { parseEventForStream, type KilnEvent } from '@kiln/contracts/events';
import { decodePosition, type Position } from '@kiln/contracts/position';
import { pollingSubscription, type Batch } from '#src/pollingSubscription.ts';
import type {
  EventStore,
  EventSubscription,
  ExpectedRevision,
  NewEvent,
  PositionRange,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  RevisionRange,
} from '#src/port.ts';
import { WakeSignal } from '#src/wakeSignal.ts';
import { createAppender } from '#src/postgres/append.ts';
import {
  encodedEventColumns,
  eventColumns,
  readTypes,
  positionOf,
  toEncoded,
  toRecorded,
  utcSessionOptions,
  type EncodedEventRow,
  type EventRow,
} from '#src/postgres/rows.ts';
import { PostgresNotifications } from '#src/postgres/notifications.ts';
import { migrate, SchemaName } from '#src/postgres/schema.ts';
import { isTransientPostgresError } from '#src/postgres/transientErrors.ts';

export type PostgresEventStoreOptions<Event extends NewEvent> = {
  connectionString: string;
  /** The PostgreSQL schema holding the tables; tests give each suite its own. */
  schema?: string;
  /** Checks an event against its stream's schema before it is stored. Kiln's contracts by default. */
  parse?: (streamId: string, event: unknown) => Event;
  /**
   * Checks every event read back against the schema too. Off by default: only this adapter writes the
   * table, and it stores nothing that failed the schema (docs/decisions/003).
   */
  parseOnRead?: boolean;
  maxConnections?: number;
  /** Shown in pg_stat_activity, so operators (and tests) can tell the store's connections apart. */
  applicationName?: string;
  batchSize?: number;
  pollIntervalMs?: number;
  /** The longest another process waits to hear of an append (one NOTIFY per window). */
  notifyEveryMs?: number;
};

const checkedExpectedRevision = (expected: ExpectedRevision): ExpectedRevision => {
  if (expected === 'any' || expected === 'no_stream') return expected;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(
      `an expected revision is 'any', 'no_stream' or a revision (0 or more), not ${expected}`,
    );
  }
  return expected;
};

export const createPostgresEventStore = async <Event extends NewEvent = KilnEvent>(
  options: PostgresEventStoreOptions<Event>,
): Promise<EventStore<Event>> => {
  const schema = options.schema ?? 'kiln_events';
  if (!SchemaName.test(schema)) throw new Error(`not a valid schema name: ${schema}`);
  const parse =
    options.parse ?? (parseEventForStream as unknown as (streamId: string, event: unknown) => Event);
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1_000;
  const clientConfig: pg.ClientConfig = {
    connectionString: options.connectionString,
    application_name: options.applicationName ?? 'kiln-event-store',
    options: utcSessionOptions,
  };
  const pool = new pg.Pool({ ...clientConfig, types: readTypes, max: options.maxConnections ?? 10 });
  // An idle connection that the server drops must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  await migrate(pool, schema);
  const notifications = new PostgresNotifications(
    pool,
    clientConfig,
    `${schema}_appended`,
    options.notifyEveryMs ?? 5,
  );
  const openSubscriptions = new Set<EventSubscription<Event>>();

  const recorded = (row: EventRow): RecordedEvent<Event> =>
    toRecorded(row, options.parseOnRead ? parse(row.stream_id, row.event) : (row.event as Event));

  const append = createAppender(pool, schema);

  const appendToStream: EventStore<Event>['appendToStream'] = async (streamId, events, appendOptions) => {
    if (events.length === 0) throw new RangeError(`an append to ${streamId} needs at least one event`);
    const checked = events.map((event) => parse(streamId, event));
    const result = await append(
      streamId,
      checked,
      checkedExpectedRevision(appendOptions?.expectedRevision ?? 'any'),
    );
    if (result.appended) notifications.announce(streamId);
    return result;
  };

  /**
   * Revisions are gapless, so a page is a range of them: bounded on both sides, the index serves it
   * however stale the planner's statistics are (a bare `limit` let it sort the whole rest of the stream).
   */
  const readStream = async (streamId: string, readOptions: ReadStreamOptions = {}) => {
    const maxCount = readOptions.maxCount ?? Number.MAX_SAFE_INTEGER;
    const result = await pool.query<EventRow>(
      `select ${eventColumns} from ${schema}.events
       where stream_id = $1 and stream_revision >= $2 and stream_revision < $2::bigint + $3::bigint
       order by stream_revision`,
      [streamId, readOptions.fromRevision ?? 0, maxCount],
    );
    return result.rows.map(recorded);
  };

  const readStreamEncoded = async (streamId: string, readOptions: ReadStreamOptions = {}) => {
    const result = await pool.query<EncodedEventRow>(
      `select ${encodedEventColumns} from ${schema}.events
       where stream_id = $1 and stream_revision >= $2 and stream_revision < $2::bigint + $3::bigint
       order by stream_revision`,
      [streamId, readOptions.fromRevision ?? 0, readOptions.maxCount ?? Number.MAX_SAFE_INTEGER],
    );
    return result.rows.map(toEncoded);
  };

  const revisionRange = async (streamId: string, range: PositionRange): Promise<RevisionRange | null> => {
    const after = range.after ? decodePosition(range.after) : { high: 0n, low: 0n };
    const upTo = range.upTo ? decodePosition(range.upTo) : undefined;
    const result = await pool.query<{ first: string | null; last: string | null }>(
      `select min(stream_revision) as first, max(stream_revision) as last from ${schema}.events
       where stream_id = $1 and (transaction_id, sequence) > ($2::text::xid8, $3::bigint)
         and ($4::text is null or (transaction_id, sequence) <= ($4::text::xid8, $5::bigint))`,
      [streamId, after.high.toString(), after.low.toString(), upTo?.high.toString(), upTo?.low.toString()],
    );
    const row = result.rows[0];
    return row?.first != null && row.last != null
      ? { first: Number(row.first), last: Number(row.last) }
      : null;
  };

  /**
   * Reads in global order, but hands over only events below the horizon of running transactions; the
   * ones past it (committed, yet behind a transaction still running) are reported as held back.
   */
  const readAllBatch = async (after: Position | undefined, maxCount: number): Promise<Batch<Event>> => {
    const { high, low } = after ? decodePosition(after) : { high: 0n, low: 0n };
    const result = await pool.query<EventRow & { visible: boolean }>(
      `select ${eventColumns}, transaction_id < (select pg_snapshot_xmin(pg_current_snapshot())) as visible
       from ${schema}.events
       where (transaction_id, sequence) > ($1::text::xid8, $2::bigint)
       order by transaction_id, sequence limit $3`,
      [high.toString(), low.toString(), maxCount],
    );
    const firstHeldBack = result.rows.findIndex((row) => !row.visible);
    const visibleRows = firstHeldBack === -1 ? result.rows : result.rows.slice(0, firstHeldBack);
    return { events: visibleRows.map(recorded), heldBack: firstHeldBack !== -1 };
  };

  const subscribe = (
    start:
      | { kind: 'all'; after: Position | undefined }
      | { kind: 'stream'; streamId: string; afterRevision: number },
  ): EventSubscription<Event> => {
    const wake = new WakeSignal();
    const watching = notifications.changes
      .pipe(filter((changed) => start.kind === 'all' || changed === '*' || changed.includes(start.streamId)))
      .subscribe(() => wake.bump());
    void notifications.listen();
    const common = {
      wake,
      batchSize,
      pollIntervalMs,
      heldBackRetryMs: 10,
      isTransient: isTransientPostgresError,
      onClose: () => {
        watching.unsubscribe();
        openSubscriptions.delete(subscription);
      },
    };
    const subscription =
      start.kind === 'all'
        ? pollingSubscription<Event, Position | undefined>({
            ...common,
            start: start.after,
            readAfter: (cursor) => readAllBatch(cursor, batchSize),
            cursorOf: (event) => event.position,
          })
        : pollingSubscription<Event, number>({
            ...common,
            start: start.afterRevision,
            readAfter: async (cursor) => ({
              events: await readStream(start.streamId, { fromRevision: cursor + 1, maxCount: batchSize }),
              heldBack: false,
            }),
            cursorOf: (event) => event.revision,
          });
    openSubscriptions.add(subscription);
    return subscription;
  };

  return {
    appendToStream,
    readStream,
    readStreamEncoded,
    revisionRange,
    readAll: async (readOptions: ReadAllOptions = {}) =>
      (await readAllBatch(readOptions.after, readOptions.maxCount ?? batchSize)).events,
    subscribeToAll: (subscribeOptions = {}) => subscribe({ kind: 'all', after: subscribeOptions.after }),
    subscribeToStream: (streamId, subscribeOptions = {}) =>
      subscribe({ kind: 'stream', streamId, afterRevision: subscribeOptions.afterRevision ?? -1 }),
    headPosition: async () => {
      const result = await pool.query<{ xid: string; sequence: string }>(
        `select transaction_id::text as xid, sequence from ${schema}.events
         where transaction_id < pg_snapshot_xmin(pg_current_snapshot())
         order by transaction_id desc, sequence desc limit 1`,
      );
      const row = result.rows[0];
      return row ? positionOf(row.xid, row.sequence) : null;
    },
    countAll: async (countOptions = {}) => {
      const { high, low } = countOptions.after ? decodePosition(countOptions.after) : { high: 0n, low: 0n };
      const result = await pool.query<{ count: string }>(
        `select count(*) from ${schema}.events
         where (transaction_id, sequence) > ($1::text::xid8, $2::bigint)
           and transaction_id < pg_snapshot_xmin(pg_current_snapshot())`,
        [high.toString(), low.toString()],
      );
      return Number(result.rows[0]?.count ?? 0);
    },
    close: async () => {
      await Promise.all([...openSubscriptions].map((subscription) => subscription.close()));
      await notifications.close();
      await pool.end();
    },
  };
};
