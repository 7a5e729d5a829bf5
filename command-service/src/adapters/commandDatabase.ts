import pg from 'pg';

/**
 * The command side's own tables in PostgreSQL: the process managers' checkpoints and work list (a view of
 * the events, rebuilt by folding them again), and session invite links (secrets, so never in events).
 */
const schemaSql = (schema: string) => `
create schema if not exists ${schema};

-- Where each process manager has got to in $all.
create table if not exists ${schema}.checkpoints (
  name text primary key,
  position text not null,
  updated_at timestamptz not null default now()
);

-- The process managers' view of every job between its reservation and its end: what to do next, when.
create table if not exists ${schema}.job_work (
  job_id text primary key,
  account_id text not null,
  stage text not null check (stage in ('reserved', 'requested', 'submitted', 'cancel_requested', 'succeeded')),
  model_id text,
  provider text,
  provider_job_id text,
  attempts integer not null default 0,
  deadline timestamptz not null,
  due_at timestamptz not null default now(),
  leased_until timestamptz,
  last_position text not null
);
create index if not exists job_work_due on ${schema}.job_work (due_at);
create index if not exists job_work_provider_job on ${schema}.job_work (provider, provider_job_id);

create table if not exists ${schema}.session_invites (
  token_hash bytea primary key,
  session_id text not null,
  invite_id text not null unique,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
`;

const MIGRATION_LOCK = 4_271_193_012;

export const openCommandDatabase = async (connectionString: string, schema = 'kiln_commands') => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`not a valid schema name: ${schema}`);
  const pool = new pg.Pool({ connectionString, max: 10, application_name: 'kiln-command-service' });
  pool.on('error', () => undefined);
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(schemaSql(schema));
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return { pool, schema, close: () => pool.end() };
};

export type CommandDatabase = Awaited<ReturnType<typeof openCommandDatabase>>;
