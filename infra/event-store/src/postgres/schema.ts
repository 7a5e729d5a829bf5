import type { Pool } from 'pg';

/** PostgreSQL identifiers the store creates its tables in; one schema per store (tests use their own). */
export const SchemaName = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * One table. The global position is (transaction id, sequence): a reader only hands over events whose
 * transaction id is below the oldest transaction still running (`pg_snapshot_xmin`), so an event that
 * commits late can never land behind a position a reader has already passed. Every transaction below
 * that horizon has finished, and every later one has a larger id (docs/decisions/002).
 *
 * The unique (stream_id, stream_revision) index is the optimistic concurrency check: two appends at
 * one revision cannot both commit. The unique event_id index makes appends idempotent.
 */
const tablesSql = (schema: string) => `
create schema if not exists ${schema};

create table if not exists ${schema}.events (
  transaction_id xid8 not null default pg_current_xact_id(),
  sequence bigint generated always as identity,
  event_id uuid not null,
  stream_id text not null,
  stream_revision bigint not null,
  type text not null,
  event jsonb not null,
  recorded_at timestamptz not null default now(),
  primary key (transaction_id, sequence),
  constraint events_stream_revision_key unique (stream_id, stream_revision),
  constraint events_event_id_key unique (event_id)
);
`;

const MIGRATION_LOCK = 4_271_193_011;

/** Creates the table when missing. Safe to run from many processes at once. */
export const migrate = async (pool: Pool, schema: string): Promise<void> => {
  if (!SchemaName.test(schema)) throw new Error(`not a valid schema name: ${schema}`);
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(tablesSql(schema));
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
};
