import type { Pool } from 'pg';
import type { PublicUser } from '@kiln/contracts/accounts/http';
import { isSessionTokenShaped, newSessionToken, tokenHash } from '#src/secretToken.ts';
import { toPublicUser, userColumns, type UserRow } from '#src/postgres/userRows.ts';

export type OpenedSession = { sessionToken: string; expiresAt: string };

/** The sign_in_sessions table: a session is the SHA-256 of its token, a user and an expiry. */
export const createSessions = (pool: Pool, schema: string, ttlSeconds: number) => {
  const sessions = `${schema}.sign_in_sessions`;
  const users = `${schema}.users`;

  /** A new session for the user; the token is returned here once and never stored. */
  const open = async (userId: string): Promise<OpenedSession> => {
    const sessionToken = newSessionToken();
    // The user's expired sessions are swept here, so the table does not grow without bound.
    await pool.query(`delete from ${sessions} where user_id = $1 and expires_at <= now()`, [userId]);
    const { rows } = await pool.query<{ expires_at: Date }>(
      `insert into ${sessions} (token_hash, user_id, expires_at)
       values ($1, $2, now() + make_interval(secs => $3))
       returning expires_at`,
      [tokenHash(sessionToken), userId, ttlSeconds],
    );
    return { sessionToken, expiresAt: rows[0]!.expires_at.toISOString() };
  };

  const signOut = async (sessionToken: string): Promise<void> => {
    if (!isSessionTokenShaped(sessionToken)) return;
    await pool.query(`delete from ${sessions} where token_hash = $1`, [tokenHash(sessionToken)]);
  };

  /**
   * The user of a live session; null when unknown, signed out or expired. `last_seen_at` is refreshed at
   * most once a minute, so most requests only read (a write per request would cost a commit each).
   */
  const sessionOf = async (
    sessionToken: string,
  ): Promise<{ user: PublicUser; validUntil: number } | null> => {
    if (!isSessionTokenShaped(sessionToken)) return null;
    const { rows } = await pool.query<UserRow & { session_expires_at: Date }>({
      name: `${schema}-user-by-session`,
      text: `with seen as (
         update ${sessions} set last_seen_at = now()
         where token_hash = $1 and last_seen_at < now() - interval '1 minute'
       )
       select ${userColumns('u')}, s.expires_at as session_expires_at
       from ${sessions} s join ${users} u on u.id = s.user_id
       where s.token_hash = $1 and s.expires_at > now()`,
      values: [tokenHash(sessionToken)],
    });
    const row = rows[0];
    return row ? { user: toPublicUser(row), validUntil: row.session_expires_at.getTime() } : null;
  };

  return { open, signOut, sessionOf };
};
