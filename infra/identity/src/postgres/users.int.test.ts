import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PublicUser } from '@kiln/contracts/accounts/http';
import { EmailTaken, InvalidCredentials, UserNotFound } from '#src/errors.ts';
import { createIdentityStore } from '#src/identityStore.ts';
import { verifyPassword } from '#src/password.ts';
import {
  openIsolatedIdentity,
  postgresTestUrl,
  uniqueEmail,
  type IsolatedIdentity,
} from '#src/testing/isolatedIdentity.ts';

const password = 'correct horse battery staple';

describe('identity store: users', () => {
  let subject: IsolatedIdentity;
  beforeAll(async () => {
    subject = await openIsolatedIdentity();
  });
  afterAll(async () => subject.dispose());

  it('signs a user up as a user whose account is their own id', async () => {
    const email = uniqueEmail('Ana');
    const user = await subject.identity.signUp({ email, password, displayName: 'Ana' });
    expect(PublicUser.parse(user)).toEqual(user);
    expect(user).toMatchObject({
      email: email.toLowerCase(),
      displayName: 'Ana',
      role: 'user',
      accountId: user.id,
    });
    expect(user.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(JSON.stringify(user)).not.toContain(password);
    await expect(subject.identity.getUser(user.id)).resolves.toEqual(user);
    await expect(subject.identity.findUserByEmail(email.toUpperCase())).resolves.toEqual(user);
  });

  it('refuses an email already taken in another case, with EmailTaken', async () => {
    const email = uniqueEmail('bea');
    await subject.identity.signUp({ email, password, displayName: 'Bea' });
    const again = subject.identity.signUp({ email: email.toUpperCase(), password, displayName: 'Other Bea' });
    await expect(again).rejects.toBeInstanceOf(EmailTaken);
    await expect(again).rejects.toMatchObject({ code: 'email_taken' });
    const { rows } = await subject.admin.query(
      `select count(*)::int as n from ${subject.schema}.users where email = $1`,
      [email.toLowerCase()],
    );
    expect(rows[0]).toEqual({ n: 1 });
  });

  it('stores passwords as scrypt hashes, never the plaintext', async () => {
    const email = uniqueEmail();
    const user = await subject.identity.signUp({ email, password, displayName: 'Hashed' });
    const { rows } = await subject.admin.query<{ password_hash: string }>(
      `select password_hash from ${subject.schema}.users where id = $1`,
      [user.id],
    );
    const stored = rows[0]!.password_hash;
    expect(stored).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(stored).not.toContain(password);
    await expect(verifyPassword(password, stored)).resolves.toBe(true);
  });

  it('signs in with the right password, in any case of the email', async () => {
    const email = uniqueEmail('cleo');
    const user = await subject.identity.signUp({ email, password, displayName: 'Cleo' });
    const signedIn = await subject.identity.signIn({ email: `  ${email.toUpperCase()} `, password });
    expect(signedIn.user).toEqual(user);
    expect(signedIn.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(signedIn.expiresAt).getTime()).toBeGreaterThan(Date.now() + 13 * 24 * 3600_000);
  });

  it('gives one and the same error for a wrong password and an unknown email', async () => {
    const email = uniqueEmail('dan');
    await subject.identity.signUp({ email, password, displayName: 'Dan' });
    const wrongPassword = await subject.identity
      .signIn({ email, password: 'not the password' })
      .catch((e: unknown) => e);
    const wrongEmail = await subject.identity
      .signIn({ email: uniqueEmail('nobody'), password })
      .catch((e: unknown) => e);
    expect(wrongPassword).toBeInstanceOf(InvalidCredentials);
    expect(wrongEmail).toBeInstanceOf(InvalidCredentials);
    const shape = (error: unknown) => ({
      ...(error as object),
      message: (error as Error).message,
      name: (error as Error).name,
    });
    expect(shape(wrongPassword)).toEqual(shape(wrongEmail));
    expect((wrongPassword as Error).message).not.toContain('not the password');
  });

  it('ensureAdmin creates the seed admin, then promotes an existing user and sets the password, idempotently', async () => {
    const seedEmail = uniqueEmail('seed');
    const created = await subject.identity.ensureAdmin({ email: seedEmail, password, displayName: 'Seed' });
    expect(created).toMatchObject({ email: seedEmail, role: 'admin', accountId: created.id });
    const again = await subject.identity.ensureAdmin({ email: seedEmail, password, displayName: 'Seed' });
    expect(again).toEqual(created);

    const email = uniqueEmail('promoted');
    const user = await subject.identity.signUp({
      email,
      password: 'the old password',
      displayName: 'Promoted',
    });
    const promoted = await subject.identity.ensureAdmin({
      email: email.toUpperCase(),
      password,
      displayName: 'Ignored',
    });
    expect(promoted).toEqual({ ...user, role: 'admin' });
    await expect(subject.identity.ensureAdmin({ email, password, displayName: 'Ignored' })).resolves.toEqual(
      promoted,
    );
    await expect(subject.identity.signIn({ email, password })).resolves.toMatchObject({ user: promoted });
    await expect(subject.identity.signIn({ email, password: 'the old password' })).rejects.toBeInstanceOf(
      InvalidCredentials,
    );
  });

  it('sets roles, and knows no user by an unknown or malformed id', async () => {
    const user = await subject.identity.signUp({ email: uniqueEmail(), password, displayName: 'Role' });
    await expect(subject.identity.setRole(user.id, 'admin')).resolves.toMatchObject({ role: 'admin' });
    await expect(subject.identity.getUser(user.id)).resolves.toMatchObject({ role: 'admin' });
    await expect(subject.identity.setRole(user.id, 'user')).resolves.toMatchObject({ role: 'user' });
    await expect(
      subject.identity.setRole('0190f5a0-0000-7000-8000-000000000000', 'admin'),
    ).rejects.toBeInstanceOf(UserNotFound);
    await expect(subject.identity.getUser('not-a-uuid')).resolves.toBeNull();
    await expect(subject.identity.findUserByEmail(uniqueEmail('nobody'))).resolves.toBeNull();
  });
});

describe('identity store: migration', () => {
  it('creates its tables once when several stores open the same new schema at once', async () => {
    const subject = await openIsolatedIdentity();
    try {
      const stores = await Promise.all(
        Array.from({ length: 4 }, () =>
          createIdentityStore({ connectionString: postgresTestUrl(), schema: `${subject.schema}_shared` }),
        ),
      );
      const user = await stores[0]!.signUp({ email: uniqueEmail(), password, displayName: 'Shared' });
      await expect(stores[3]!.getUser(user.id)).resolves.toEqual(user);
      await Promise.all(stores.map((store) => store.close()));
    } finally {
      await subject.admin.query(`drop schema if exists ${subject.schema}_shared cascade`);
      await subject.dispose();
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(
      createIdentityStore({ connectionString: postgresTestUrl(), schema: 'x; drop table users' }),
    ).rejects.toThrow(/not a valid schema name/);
  });
});
