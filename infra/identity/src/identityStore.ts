import pg from 'pg';
import type { PublicUser, Role } from '@kiln/contracts/accounts/http';
import { createApiTokens, type ApiTokenCreated, type ApiTokenSummary } from '#src/postgres/apiTokens.ts';
import { dummyPasswordHash } from '#src/password.ts';
import { migrate } from '#src/postgres/schema.ts';
import { createSessions } from '#src/postgres/sessions.ts';
import { createLookupCache } from '#src/lookupCache.ts';
import { createUsers, type Credentials, type NewUser } from '#src/postgres/users.ts';

export type { ApiTokenCreated, ApiTokenSummary, Credentials, NewUser };

export type IdentityStoreOptions = {
  connectionString: string;
  /** The PostgreSQL schema of the tables, created when missing (default `kiln_identity`). */
  schema?: string;
  /** How long a sign-in session lasts (default 14 days). */
  sessionTtlSeconds?: number;
  maxConnections?: number;
  applicationName?: string;
  /** How long a session or token lookup is remembered (default 2 s; 0 turns it off). */
  lookupCacheMs?: number;
};

export type SignedIn = { user: PublicUser; sessionToken: string; expiresAt: string };

/**
 * Users, sign-in sessions and API tokens: ordinary state in PostgreSQL, never in the event store. Tokens are
 * returned once, at creation; the tables keep only their SHA-256, and passwords only as scrypt hashes.
 */
export type IdentityStore = {
  /** A new user with the role `user`, whose account id is its own id. Throws EmailTaken. */
  signUp(user: NewUser): Promise<PublicUser>;
  /** A new session for the right email and password; InvalidCredentials otherwise (same error for both). */
  signIn(credentials: Credentials): Promise<SignedIn>;
  signOut(sessionToken: string): Promise<void>;
  /** The user of a live session; null when the token is unknown, signed out or expired. */
  userBySessionToken(sessionToken: string): Promise<PublicUser | null>;
  createApiToken(userId: string, name: string): Promise<ApiTokenCreated>;
  /** The user of a token that is not revoked; null otherwise. */
  userByApiToken(token: string): Promise<PublicUser | null>;
  listApiTokens(userId: string): Promise<ApiTokenSummary[]>;
  /** True when the user has that token (now revoked); false when they have no such token. */
  revokeApiToken(userId: string, tokenId: string): Promise<boolean>;
  /** The seed admin: creates it, or makes the user with that email an admin with that password. */
  ensureAdmin(admin: NewUser): Promise<PublicUser>;
  /** Throws UserNotFound. */
  setRole(userId: string, role: Role): Promise<PublicUser>;
  getUser(userId: string): Promise<PublicUser | null>;
  findUserByEmail(email: string): Promise<PublicUser | null>;
  close(): Promise<void>;
};

const FOURTEEN_DAYS = 14 * 24 * 60 * 60;

export async function createIdentityStore(options: IdentityStoreOptions): Promise<IdentityStore> {
  const { connectionString, schema = 'kiln_identity', sessionTtlSeconds = FOURTEEN_DAYS } = options;
  if (!Number.isFinite(sessionTtlSeconds) || sessionTtlSeconds <= 0) {
    throw new Error(`sessionTtlSeconds must be a positive number, not ${sessionTtlSeconds}`);
  }
  const pool = new pg.Pool({
    connectionString,
    max: options.maxConnections ?? 10,
    application_name: options.applicationName ?? 'kiln-identity',
  });
  // An idle client's error (e.g. the server restarting) must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  try {
    // The dummy hash is made up front, so the first unknown email costs what any other does.
    await Promise.all([migrate(pool, schema), dummyPasswordHash()]);
  } catch (error) {
    await pool.end();
    throw error;
  }

  const users = createUsers(pool, schema);
  const sessions = createSessions(pool, schema, sessionTtlSeconds);
  const apiTokens = createApiTokens(pool, schema);
  const lookups = createLookupCache(options.lookupCacheMs ?? 2_000);

  return {
    signUp: users.signUp,
    signIn: async (credentials) => {
      const user = await users.checkCredentials(credentials);
      return { user, ...(await sessions.open(user.id)) };
    },
    signOut: async (sessionToken) => {
      lookups.forget(sessionToken);
      await sessions.signOut(sessionToken);
    },
    userBySessionToken: lookups.remembered(sessions.sessionOf),
    ...apiTokens,
    userByApiToken: lookups.remembered(async (token) => {
      const user = await apiTokens.userByApiToken(token);
      return user ? { user } : null;
    }),
    revokeApiToken: async (userId, tokenId) => {
      lookups.forgetUser(userId);
      return apiTokens.revokeApiToken(userId, tokenId);
    },
    ensureAdmin: users.ensureAdmin,
    setRole: users.setRole,
    getUser: users.getUser,
    findUserByEmail: users.findUserByEmail,
    close: () => pool.end(),
  };
}
