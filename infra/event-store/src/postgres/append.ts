import type pg from 'pg';
import { DuplicateEventIds, WrongExpectedRevision } from '#src/errors.ts';
import { positionOf } from '#src/postgres/rows.ts';
import type { AppendResult, ExpectedRevision, NewEvent } from '#src/port.ts';

/**
 * An append is one INSERT: it reads the stream's last revision through the unique (stream, revision)
 * index and inserts after it, only when it matches what the caller expects. A writer that raced it to
 * the same revision fails on that unique index; an event id stored before fails on the event-id index.
 * Only those rare paths cost a second query.
 */
const appendSql = (schema: string) => `
insert into ${schema}.events (event_id, stream_id, stream_revision, type, event)
select (x.e->>'id')::uuid, $1, current.revision + x.ord, x.e->>'type', x.e
from (select coalesce(max(stream_revision), -1) as revision from ${schema}.events where stream_id = $1) as current,
     jsonb_array_elements($3::jsonb) with ordinality as x(e, ord)
where case $2::text when 'any' then true when 'no_stream' then current.revision = -1 else current.revision = $4::bigint end
order by x.ord
returning stream_revision, transaction_id::text as xid, sequence`;

type AppendedRow = { stream_revision: string; xid: string; sequence: string };
type StoredRow = AppendedRow & { stream_id: string };

const MAX_ANY_RETRIES = 20;

const describeExpected = (expected: ExpectedRevision) => String(expected);

const resultOf = (rows: AppendedRow[], appended: boolean): AppendResult => {
  const last = rows.reduce((a, b) => (Number(a.stream_revision) > Number(b.stream_revision) ? a : b));
  return {
    nextExpectedRevision: Number(last.stream_revision),
    position: positionOf(last.xid, last.sequence),
    appended,
  };
};

const uniqueViolationOn = (error: unknown): string | undefined => {
  const pgError = error as { code?: string; constraint?: string };
  return pgError.code === '23505' ? pgError.constraint : undefined;
};

/** Appends through a pool, or through one client (inside a transaction of the caller's). */
export const createAppender = (pool: pg.Pool | pg.Client, schema: string) => {
  const sql = appendSql(schema);

  /** The answer of an earlier append of exactly these events, if there was one. */
  const earlierAppend = async (streamId: string, events: NewEvent[]): Promise<AppendResult | undefined> => {
    const { rows } = await pool.query<StoredRow>(
      `select stream_id, stream_revision, transaction_id::text as xid, sequence
       from ${schema}.events where event_id = any($1::uuid[])`,
      [events.map((event) => event.id)],
    );
    if (rows.length === 0) return undefined;
    if (rows.length === events.length && rows.every((row) => row.stream_id === streamId))
      return resultOf(rows, false);
    throw new DuplicateEventIds(
      streamId,
      `${rows.length} of ${events.length} events were stored before (or in another stream): not a retry of one append`,
    );
  };

  const currentRevision = async (streamId: string): Promise<string> => {
    const { rows } = await pool.query<{ revision: string | null }>(
      `select max(stream_revision) as revision from ${schema}.events where stream_id = $1`,
      [streamId],
    );
    return rows[0]?.revision ?? 'no_stream';
  };

  const conflict = async (streamId: string, expected: ExpectedRevision) =>
    new WrongExpectedRevision(streamId, describeExpected(expected), await currentRevision(streamId));

  return async (streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> => {
    const kind = typeof expected === 'number' ? 'exact' : expected;
    const exact = typeof expected === 'number' ? expected : null;
    const payload = JSON.stringify(events);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const { rows } = await pool.query<AppendedRow>({
          name: `${schema}-append`,
          text: sql,
          values: [streamId, kind, payload, exact],
        });
        if (rows.length > 0) return resultOf(rows, true);
        return (await earlierAppend(streamId, events)) ?? Promise.reject(await conflict(streamId, expected));
      } catch (error) {
        const constraint = uniqueViolationOn(error);
        if (constraint === 'events_event_id_key') {
          const earlier = await earlierAppend(streamId, events);
          if (earlier) return earlier;
        }
        if (constraint === 'events_stream_revision_key') {
          const earlier = await earlierAppend(streamId, events);
          if (earlier) return earlier;
          if (kind === 'any' && attempt < MAX_ANY_RETRIES) continue;
          throw await conflict(streamId, expected);
        }
        throw error;
      }
    }
  };
};
