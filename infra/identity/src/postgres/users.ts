import type { Pool } from 'pg';
import type { PublicUser, Role } from '@kiln/contracts/accounts/http';
import { v7 as uuidv7 } from 'uuid';
import { EmailTaken, InvalidCredentials, UserNotFound } from '#src/errors.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from '#src/password.ts';
import {
  isId,
  normalizeEmail,
  toPublicUser,
  userColumns,
  violation,
  type UserRow,
} from '#src/postgres/userRows.ts';

export type NewUser = { email: string; password: string; displayName: string };
export type Credentials = { email: string; password: string };

/** The users table: sign-up, the password check, the seed admin and roles. */
export const createUsers = (pool: Pool, schema: string) => {
  const users = `${schema}.users`;

  const signUp = async ({ email, password, displayName }: NewUser): Promise<PublicUser> => {
    const id = uuidv7();
    const passwordHash = await hashPassword(password);
    try {
      const { rows } = await pool.query<UserRow>(
        `insert into ${users} (id, email, password_hash, role, display_name, account_id)
         values ($1, $2, $3, 'user', $4, $1)
         returning ${userColumns()}`,
        [id, normalizeEmail(email), passwordHash, displayName],
      );
      return toPublicUser(rows[0]!);
    } catch (error) {
      if (violation(error)?.constraint === 'users_email_key') throw new EmailTaken();
      throw error;
    }
  };

  /**
   * The user whose email and password these are, or InvalidCredentials. An unknown email still costs one
   * scrypt verification (against a dummy hash), so both failures take the same work and give the same error.
   */
  const checkCredentials = async ({ email, password }: Credentials): Promise<PublicUser> => {
    const { rows } = await pool.query<UserRow & { password_hash: string }>(
      `select ${userColumns()}, password_hash from ${users} where email = $1`,
      [normalizeEmail(email)],
    );
    const row = rows[0];
    const matches = await verifyPassword(password, row?.password_hash ?? (await dummyPasswordHash()));
    if (!row || !matches) throw new InvalidCredentials();
    const { password_hash: _hidden, ...user } = row;
    return toPublicUser(user);
  };

  /** The seed admin: creates it, or makes the user with that email an admin with that password. Idempotent. */
  const ensureAdmin = async ({ email, password, displayName }: NewUser): Promise<PublicUser> => {
    const id = uuidv7();
    const passwordHash = await hashPassword(password);
    const { rows } = await pool.query<UserRow>(
      `insert into ${users} (id, email, password_hash, role, display_name, account_id)
       values ($1, $2, $3, 'admin', $4, $1)
       on conflict on constraint users_email_key
       do update set role = 'admin', password_hash = excluded.password_hash
       returning ${userColumns()}`,
      [id, normalizeEmail(email), passwordHash, displayName],
    );
    return toPublicUser(rows[0]!);
  };

  const setRole = async (userId: string, role: Role): Promise<PublicUser> => {
    if (!isId(userId)) throw new UserNotFound(userId);
    const { rows } = await pool.query<UserRow>(
      `update ${users} set role = $2 where id = $1 returning ${userColumns()}`,
      [userId, role],
    );
    if (!rows[0]) throw new UserNotFound(userId);
    return toPublicUser(rows[0]);
  };

  const getUser = async (userId: string): Promise<PublicUser | null> => {
    if (!isId(userId)) return null;
    const { rows } = await pool.query<UserRow>(`select ${userColumns()} from ${users} where id = $1`, [
      userId,
    ]);
    return rows[0] ? toPublicUser(rows[0]) : null;
  };

  const findUserByEmail = async (email: string): Promise<PublicUser | null> => {
    const { rows } = await pool.query<UserRow>(`select ${userColumns()} from ${users} where email = $1`, [
      normalizeEmail(email),
    ]);
    return rows[0] ? toPublicUser(rows[0]) : null;
  };

  return { signUp, checkCredentials, ensureAdmin, setRole, getUser, findUserByEmail };
};
