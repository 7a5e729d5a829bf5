import type { Pool } from 'pg';

/** PostgreSQL identifiers the store creates its tables in; one schema per store (tests use their own). */
export const SchemaName = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Three tables. Emails are stored lowercased, so the unique index compares them case-insensitively. Tokens
 * are stored as their SHA-256 only (`bytea`); a user's sessions and API tokens go with the user.
 */
const tablesSql = (schema: string) => `
create schema if not exists ${schema};

create table if not exists ${schema}.users (
  id uuid primary key,
  email text not null,
  password_hash text not null,
  role text not null default 'user',
  display_name text not null,
  account_id uuid not null,
  created_at timestamptz not null default now(),
  constraint users_email_key unique (email),
  constraint users_email_lowercase check (email = lower(email)),
  constraint users_role_check check (role in ('user', 'admin'))
);

create table if not exists ${schema}.sign_in_sessions (
  token_hash bytea primary key,
  user_id uuid not null references ${schema}.users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_seen_at timestamptz not null default now()
);
create index if not exists sign_in_sessions_user_id_idx on ${schema}.sign_in_sessions (user_id);

create table if not exists ${schema}.api_tokens (
  id uuid primary key,
  user_id uuid not null references ${schema}.users (id) on delete cascade,
  name text not null,
  token_hash bytea not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  constraint api_tokens_token_hash_key unique (token_hash)
);
create index if not exists api_tokens_user_id_idx on ${schema}.api_tokens (user_id);
`;

/** One advisory lock for every identity schema: concurrent `create ... if not exists` can still collide. */
const MIGRATION_LOCK = 4_271_193_027;

/** Creates the tables when missing. Safe to run from many processes at once. */
export const migrate = async (pool: Pool, schema: string): Promise<void> => {
  if (!SchemaName.test(schema)) throw new Error(`not a valid schema name: ${schema}`);
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(tablesSql(schema));
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
};
