import { createHash, randomBytes } from 'node:crypto';
import type { CommandDatabase } from '#src/adapters/commandDatabase.ts';

const hashOf = (token: string) => createHash('sha256').update(token).digest();

/** Invite links: the token is a secret shown once; only its SHA-256 is kept, never in the event store. */
export const createInviteStore = ({ pool, schema }: CommandDatabase) => ({
  async create(sessionId: string, inviteId: string, expiresAt: Date): Promise<string> {
    const token = randomBytes(24).toString('base64url');
    await pool.query(
      `insert into ${schema}.session_invites (token_hash, session_id, invite_id, expires_at) values ($1, $2, $3, $4)`,
      [hashOf(token), sessionId, inviteId, expiresAt],
    );
    return token;
  },

  async find(token: string): Promise<{ sessionId: string; inviteId: string } | undefined> {
    const { rows } = await pool.query<{ session_id: string; invite_id: string }>(
      `select session_id, invite_id from ${schema}.session_invites where token_hash = $1`,
      [hashOf(token)],
    );
    const row = rows[0];
    return row ? { sessionId: row.session_id, inviteId: row.invite_id } : undefined;
  },
});

export type InviteStore = ReturnType<typeof createInviteStore>;
