import pg from 'pg';

/**
 * The media processor's own tables: its checkpoint in `$all`, the work list of completions to process,
 * and a view of who may read each job's files (its owner, and members of sessions it was added to). All of
 * them are folded from events, so they can be rebuilt by dropping them with the checkpoint.
 */
const schemaSql = (schema: string) => `
create schema if not exists ${schema};

create table if not exists ${schema}.checkpoints (
  name text primary key,
  position text not null,
  updated_at timestamptz not null default now()
);

create table if not exists ${schema}.pending (
  job_id text primary key,
  outputs jsonb not null,
  correlation_id text not null,
  cause_id text not null,
  attempts integer not null default 0,
  due_at timestamptz not null default now(),
  leased_until timestamptz,
  created_at timestamptz not null default now()
);

create table if not exists ${schema}.job_owners (job_id text primary key, user_id text not null);
create table if not exists ${schema}.session_jobs (session_id text not null, job_id text not null, primary key (session_id, job_id));
create index if not exists session_jobs_job on ${schema}.session_jobs (job_id);
create table if not exists ${schema}.session_members (session_id text not null, user_id text not null, primary key (session_id, user_id));
`;

const MIGRATION_LOCK = 4_271_193_013;

export const openMediaDatabase = async (connectionString: string, schema: string) => {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`not a valid schema name: ${schema}`);
  const pool = new pg.Pool({ connectionString, max: 10, application_name: 'kiln-media-processor' });
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

export type MediaDatabase = Awaited<ReturnType<typeof openMediaDatabase>>;

/** The checkpoints of this service's subscribers, in its own schema. */
export const mediaCheckpoints = ({ pool, schema }: MediaDatabase) => ({
  async load(name: string): Promise<string | undefined> {
    const { rows } = await pool.query<{ position: string }>(
      `select position from ${schema}.checkpoints where name = $1`,
      [name],
    );
    return rows[0]?.position;
  },
  async save(name: string, position: string): Promise<void> {
    await pool.query(
      `insert into ${schema}.checkpoints (name, position) values ($1, $2)
       on conflict (name) do update set position = excluded.position, updated_at = now()
       where ${schema}.checkpoints.position < excluded.position`,
      [name, position],
    );
  },
});
