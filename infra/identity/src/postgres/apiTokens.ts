import type { Pool } from 'pg';
import type { PublicUser } from '@kiln/contracts/accounts/http';
import { v7 as uuidv7 } from 'uuid';
import { UserNotFound } from '#src/errors.ts';
import { isApiTokenShaped, newApiToken, tokenHash } from '#src/secretToken.ts';
import { isId, toPublicUser, userColumns, violation, type UserRow } from '#src/postgres/userRows.ts';

/** The answer to creating a token: the only time its text is ever shown. */
export type ApiTokenCreated = { id: string; name: string; token: string; createdAt: string };

/** A token as a list shows it: never its text or its hash. */
export type ApiTokenSummary = {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
};

type TokenRow = {
  id: string;
  name: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

const toSummary = (row: TokenRow): ApiTokenSummary => ({
  id: row.id,
  name: row.name,
  createdAt: row.created_at.toISOString(),
  lastUsedAt: row.last_used_at?.toISOString() ?? null,
  revokedAt: row.revoked_at?.toISOString() ?? null,
});

/** The api_tokens table: bearer tokens for programs, stored as their SHA-256. */
export const createApiTokens = (pool: Pool, schema: string) => {
  const tokens = `${schema}.api_tokens`;
  const users = `${schema}.users`;

  const createApiToken = async (userId: string, name: string): Promise<ApiTokenCreated> => {
    if (!isId(userId)) throw new UserNotFound(userId);
    const id = uuidv7();
    const token = newApiToken();
    try {
      const { rows } = await pool.query<{ created_at: Date }>(
        `insert into ${tokens} (id, user_id, name, token_hash) values ($1, $2, $3, $4) returning created_at`,
        [id, userId, name, tokenHash(token)],
      );
      return { id, name, token, createdAt: rows[0]!.created_at.toISOString() };
    } catch (error) {
      if (violation(error)?.code === '23503') throw new UserNotFound(userId);
      throw error;
    }
  };

  /** The user of a token that is not revoked; null otherwise. `last_used_at` is refreshed at most once a minute. */
  const userByApiToken = async (token: string): Promise<PublicUser | null> => {
    if (!isApiTokenShaped(token)) return null;
    const { rows } = await pool.query<UserRow>({
      name: `${schema}-user-by-api-token`,
      text: `with used as (
         update ${tokens} set last_used_at = now()
         where token_hash = $1 and revoked_at is null
           and (last_used_at is null or last_used_at < now() - interval '1 minute')
       )
       select ${userColumns('u')} from ${tokens} t join ${users} u on u.id = t.user_id
       where t.token_hash = $1 and t.revoked_at is null`,
      values: [tokenHash(token)],
    });
    return rows[0] ? toPublicUser(rows[0]) : null;
  };

  /** The user's tokens, oldest first, revoked ones included (with `revokedAt`). */
  const listApiTokens = async (userId: string): Promise<ApiTokenSummary[]> => {
    if (!isId(userId)) return [];
    const { rows } = await pool.query<TokenRow>(
      `select id, name, created_at, last_used_at, revoked_at from ${tokens}
       where user_id = $1 order by created_at, id`,
      [userId],
    );
    return rows.map(toSummary);
  };

  /** Revokes one of the user's tokens. True when the user has that token (revoked now or before). */
  const revokeApiToken = async (userId: string, tokenId: string): Promise<boolean> => {
    if (!isId(userId) || !isId(tokenId)) return false;
    const result = await pool.query(
      `update ${tokens} set revoked_at = coalesce(revoked_at, now()) where id = $1 and user_id = $2`,
      [tokenId, userId],
    );
    return (result.rowCount ?? 0) > 0;
  };

  return { createApiToken, userByApiToken, listApiTokens, revokeApiToken };
};
