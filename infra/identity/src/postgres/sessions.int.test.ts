import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenHash } from '#src/secretToken.ts';
import { createIdentityStore } from '#src/identityStore.ts';
import {
  openIsolatedIdentity,
  postgresTestUrl,
  uniqueEmail,
  type IsolatedIdentity,
} from '#src/testing/isolatedIdentity.ts';

const password = 'correct horse battery staple';

describe('identity store: sign-in sessions', () => {
  let subject: IsolatedIdentity;
  beforeAll(async () => {
    subject = await openIsolatedIdentity();
  });
  afterAll(async () => subject.dispose());

  const signedIn = async () => {
    const email = uniqueEmail();
    await subject.identity.signUp({ email, password, displayName: 'Session' });
    return subject.identity.signIn({ email, password });
  };

  it('resolves a session token to its user until sign-out', async () => {
    const { user, sessionToken } = await signedIn();
    await expect(subject.identity.userBySessionToken(sessionToken)).resolves.toEqual(user);
    await subject.identity.signOut(sessionToken);
    await expect(subject.identity.userBySessionToken(sessionToken)).resolves.toBeNull();
    await subject.identity.signOut(sessionToken); // twice is fine
  });

  it('forgets a sign-out on another instance within its lookup cache time, and at once on its own', async () => {
    const { user, sessionToken } = await signedIn();
    const other = await createIdentityStore({
      connectionString: postgresTestUrl(),
      schema: subject.schema,
      lookupCacheMs: 300,
    });
    try {
      await expect(other.userBySessionToken(sessionToken)).resolves.toEqual(user);
      await subject.identity.signOut(sessionToken);
      await expect(subject.identity.userBySessionToken(sessionToken)).resolves.toBeNull();
      // The other instance remembered the session: it may accept it for at most its cache time.
      await new Promise((resolve) => setTimeout(resolve, 350));
      await expect(other.userBySessionToken(sessionToken)).resolves.toBeNull();
    } finally {
      await other.close();
    }
  });

  it('resolves an expired session to null', async () => {
    const { sessionToken } = await signedIn();
    await subject.admin.query(
      `update ${subject.schema}.sign_in_sessions set expires_at = now() - interval '1 second' where token_hash = $1`,
      [tokenHash(sessionToken)],
    );
    await expect(subject.identity.userBySessionToken(sessionToken)).resolves.toBeNull();
  });

  it('ends sessions after the configured time to live', async () => {
    const shortLived = await openIsolatedIdentity({ sessionTtlSeconds: 0.5 });
    try {
      const email = uniqueEmail();
      const user = await shortLived.identity.signUp({ email, password, displayName: 'Brief' });
      const { sessionToken, expiresAt } = await shortLived.identity.signIn({ email, password });
      expect(new Date(expiresAt).getTime() - Date.now()).toBeLessThan(1_000);
      await expect(shortLived.identity.userBySessionToken(sessionToken)).resolves.toEqual(user);
      await new Promise((resolve) => setTimeout(resolve, 700));
      await expect(shortLived.identity.userBySessionToken(sessionToken)).resolves.toBeNull();
    } finally {
      await shortLived.dispose();
    }
  });

  it('stores only the SHA-256 of a session token, and notes when it was last seen', async () => {
    const { user, sessionToken } = await signedIn();
    const sessions = `${subject.schema}.sign_in_sessions`;
    const { rows } = await subject.admin.query<{ row: string; token_hash: Buffer }>(
      `select s::text as row, token_hash from ${sessions} s where user_id = $1`,
      [user.id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).not.toContain(sessionToken);
    expect(rows[0]!.token_hash.equals(tokenHash(sessionToken))).toBe(true);

    await subject.admin.query(
      `update ${sessions} set last_seen_at = now() - interval '1 hour' where user_id = $1`,
      [user.id],
    );
    await subject.identity.userBySessionToken(sessionToken);
    const seen = await subject.admin.query<{ recent: boolean }>(
      `select last_seen_at > now() - interval '1 minute' as recent from ${sessions} where user_id = $1`,
      [user.id],
    );
    expect(seen.rows[0]).toEqual({ recent: true });
  });

  it('knows nothing of a made-up or malformed token', async () => {
    await expect(subject.identity.userBySessionToken('A'.repeat(43))).resolves.toBeNull();
    await expect(subject.identity.userBySessionToken("' or 1=1 --")).resolves.toBeNull();
    await expect(subject.identity.userBySessionToken('')).resolves.toBeNull();
  });

  it('sweeps a user’s expired sessions when they sign in again', async () => {
    const email = uniqueEmail();
    const user = await subject.identity.signUp({ email, password, displayName: 'Sweep' });
    await subject.identity.signIn({ email, password });
    await subject.admin.query(
      `update ${subject.schema}.sign_in_sessions set expires_at = now() - interval '1 day' where user_id = $1`,
      [user.id],
    );
    await subject.identity.signIn({ email, password });
    const { rows } = await subject.admin.query(
      `select count(*)::int as n from ${subject.schema}.sign_in_sessions where user_id = $1`,
      [user.id],
    );
    expect(rows[0]).toEqual({ n: 1 });
  });
});
