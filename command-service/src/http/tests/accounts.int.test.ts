import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingStreamId } from '@kiln/contracts/streams';
import { startCommandService, type Answer, type CommandServiceUnderTest } from '#src/testing/harness.ts';

let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
});
afterAll(async () => kiln.stop());

/** Every password this file sends, so no answer can be caught echoing one. */
const passwordsSent = new Set<string>();

/** Object keys at any depth of a JSON value. */
const keysOf = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.flatMap(keysOf)
    : value && typeof value === 'object'
      ? Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)])
      : [];

/**
 * `kiln.call`, with every answer checked: no `password` or `passwordHash` field anywhere in it, no
 * scrypt hash, no password that was sent, in the body or any header.
 */
const call = async (...args: Parameters<CommandServiceUnderTest['call']>): Promise<Answer> => {
  const body = args[2]?.body as { password?: unknown } | undefined;
  if (typeof body?.password === 'string') passwordsSent.add(body.password);
  const answer = await kiln.call(...args);
  const everything = JSON.stringify(answer.body) + JSON.stringify([...answer.headers]);
  expect(keysOf(answer.body).filter((key) => /^password(hash)?$/i.test(key))).toEqual([]);
  expect(everything).not.toMatch(/scrypt\$/i);
  for (const password of passwordsSent) expect(everything).not.toContain(password);
  return answer;
};

const newEmail = (name = 'ana') => `${name}-${randomUUID().slice(0, 8)}@kiln.test`;
const strongPassword = () => `pw-${randomUUID()}`;

const signUp = async (email = newEmail(), password = strongPassword()) => {
  const answer = await call('POST', '/v1/accounts/sign-up', {
    body: { email, password, displayName: 'Ana' },
  });
  return { answer, email, password };
};

const setCookieOf = (answer: Answer) => answer.headers.get('set-cookie') ?? '';

const me = (options: { cookie?: string; headers?: Record<string, string> }) =>
  call('GET', '/v1/accounts/me', options);

describe('POST /v1/accounts/sign-up', () => {
  it('creates the user, sets an http-only same-site session cookie and opens the billing account', async () => {
    const email = newEmail();
    const { answer } = await signUp(email);
    expect(answer.status).toBe(201);
    const { user, expiresAt } = answer.body.data;
    expect(user).toEqual({
      id: expect.any(String),
      email,
      displayName: 'Ana',
      role: 'user',
      accountId: expect.any(String),
      createdAt: expect.any(String),
    });
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());

    const setCookie = setCookieOf(answer);
    expect(setCookie).toMatch(/^kiln_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/;\s*HttpOnly(;|$)/i);
    expect(setCookie).toMatch(/;\s*SameSite=Lax(;|$)/i);
    expect(setCookie).toMatch(/;\s*Path=\/(;|$)/i);
    expect(Number(/Max-Age=(\d+)/i.exec(setCookie)?.[1])).toBeGreaterThan(0);

    const billing = await kiln.store.readStream(billingStreamId(user.accountId));
    expect(billing.map((event) => [event.type, event.data])).toEqual([
      ['BillingAccountOpened', { accountId: user.accountId, ownerId: user.id }],
    ]);
    expect(billing[0]?.metadata.actor).toEqual({ kind: 'user', id: user.id });

    // The cookie signs the new user in.
    const whoAmI = await me({ cookie: kiln.cookieOf(answer) });
    expect(whoAmI.status).toBe(200);
    expect(whoAmI.body.data).toEqual(user);
  });

  it('refuses an email already taken, whatever its case (409), and opens nothing more', async () => {
    const email = newEmail('case');
    const first = await signUp(email);
    expect(first.answer.status).toBe(201);
    const before = (await kiln.store.readAll({ maxCount: 100_000 })).length;
    const again = await signUp(email.toUpperCase());
    expect(again.answer.status).toBe(409);
    expect(again.answer.body.error.code).toBe('conflict');
    expect(again.answer.headers.get('set-cookie')).toBeNull();
    expect((await kiln.store.readAll({ maxCount: 100_000 })).length).toBe(before);
    // The first password still signs in; the second does not.
    expect(
      (await call('POST', '/v1/accounts/sign-in', { body: { email, password: first.password } })).status,
    ).toBe(200);
    expect(
      (await call('POST', '/v1/accounts/sign-in', { body: { email, password: again.password } })).status,
    ).toBe(401);
  });

  it('refuses a password shorter than 10 characters (400, naming body.password)', async () => {
    const email = newEmail();
    const { answer } = await signUp(email, 'short-pw1');
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
    expect(answer.body.error.details).toEqual([{ path: 'body.password', message: 'at least 10 characters' }]);
    expect(answer.headers.get('set-cookie')).toBeNull();
    // No user was made: signing up properly with that email works.
    expect((await signUp(email)).answer.status).toBe(201);
  });
});

describe('POST /v1/accounts/sign-in', () => {
  it('signs in with the right password and sets a new session cookie', async () => {
    const { answer: signedUp, email, password } = await signUp();
    const answer = await call('POST', '/v1/accounts/sign-in', {
      body: { email: email.toUpperCase(), password },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.data.user).toEqual(signedUp.body.data.user);
    const setCookie = setCookieOf(answer);
    expect(setCookie).toMatch(/^kiln_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/;\s*HttpOnly(;|$)/i);
    expect(setCookie).toMatch(/;\s*SameSite=Lax(;|$)/i);
    expect(kiln.cookieOf(answer)).not.toBe(kiln.cookieOf(signedUp));
    expect((await me({ cookie: kiln.cookieOf(answer) })).body.data.id).toBe(signedUp.body.data.user.id);
  });

  it('answers a wrong password and an unknown email with the same 401', async () => {
    const { email } = await signUp();
    const wrongPassword = await call('POST', '/v1/accounts/sign-in', {
      body: { email, password: 'not-the-password' },
    });
    const unknownEmail = await call('POST', '/v1/accounts/sign-in', {
      body: { email: newEmail('nobody'), password: 'not-the-password' },
    });
    for (const answer of [wrongPassword, unknownEmail]) {
      expect(answer.status).toBe(401);
      expect(answer.headers.get('set-cookie')).toBeNull();
    }
    expect(wrongPassword.body.error.code).toBe('unauthenticated');
    expect(wrongPassword.body.error.message).toEqual(expect.any(String));
    const { correlationId: _a, ...wrong } = wrongPassword.body.error;
    const { correlationId: _b, ...unknown } = unknownEmail.body.error;
    expect(unknown).toEqual(wrong);
  });
});

describe('GET /v1/accounts/me and POST /v1/accounts/sign-out', () => {
  it('answers the signed-in user, 401 without a cookie, and 401 after sign-out', async () => {
    const { answer: signedUp } = await signUp();
    const cookie = kiln.cookieOf(signedUp);
    expect((await me({ cookie })).status).toBe(200);
    const anonymous = await me({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthenticated');
    expect((await me({ cookie: 'kiln_session=not-a-session-token' })).status).toBe(401);

    const signedOut = await call('POST', '/v1/accounts/sign-out', { cookie });
    expect(signedOut.status).toBe(200);
    expect(signedOut.body).toEqual({ ok: true, data: { signedOut: true } });
    const cleared = setCookieOf(signedOut);
    expect(cleared).toMatch(/^kiln_session=;/);
    expect(cleared).toMatch(/;\s*Max-Age=0(;|$)/i);
    expect(cleared).toMatch(/;\s*HttpOnly(;|$)/i);

    const stale = await me({ cookie });
    expect(stale.status).toBe(401);
    expect(stale.body.error.code).toBe('unauthenticated');
  });

  it('signs out only the session it is sent with', async () => {
    const { answer: signedUp, email, password } = await signUp();
    const second = await call('POST', '/v1/accounts/sign-in', { body: { email, password } });
    expect((await call('POST', '/v1/accounts/sign-out', { cookie: kiln.cookieOf(second) })).status).toBe(200);
    expect((await me({ cookie: kiln.cookieOf(second) })).status).toBe(401);
    expect((await me({ cookie: kiln.cookieOf(signedUp) })).status).toBe(200);
  });
});

describe('API tokens', () => {
  it('creates a token shown once, which signs requests in until it is revoked', async () => {
    const { answer: signedUp } = await signUp();
    const cookie = kiln.cookieOf(signedUp);
    const created = await call('POST', '/v1/accounts/tokens', { cookie, body: { name: 'my script' } });
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({
      id: expect.any(String),
      name: 'my script',
      token: expect.stringMatching(/^kiln_[A-Za-z0-9_-]{43}$/),
      createdAt: expect.any(String),
    });
    const { id, token } = created.body.data;
    const bearer = { authorization: `Bearer ${token}` };

    const viaToken = await me({ headers: bearer });
    expect(viaToken.status).toBe(200);
    expect(viaToken.body.data).toEqual(signedUp.body.data.user);
    // A token is no session: it sets no cookie.
    expect(viaToken.headers.get('set-cookie')).toBeNull();
    // The token never appears in the event store.
    expect(JSON.stringify(await kiln.store.readAll({ maxCount: 100_000 }))).not.toContain(token);

    const revoked = await call('DELETE', `/v1/accounts/tokens/${id}`, { cookie });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ ok: true, data: { revoked: true } });
    const after = await me({ headers: bearer });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
    // The session that revoked it still works.
    expect((await me({ cookie })).status).toBe(200);
  });

  it("answers 404 for revoking someone else's token, which keeps working", async () => {
    const owner = await signUp();
    const created = await call('POST', '/v1/accounts/tokens', {
      cookie: kiln.cookieOf(owner.answer),
      body: { name: 'ci' },
    });
    const other = await signUp();
    const refused = await call('DELETE', `/v1/accounts/tokens/${created.body.data.id}`, {
      cookie: kiln.cookieOf(other.answer),
    });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('not_found');
    expect((await me({ headers: { authorization: `Bearer ${created.body.data.token}` } })).status).toBe(200);
    const unknown = await call('DELETE', `/v1/accounts/tokens/${randomUUID()}`, {
      cookie: kiln.cookieOf(other.answer),
    });
    expect(unknown.status).toBe(404);
  });

  it('refuses a malformed or unknown bearer token with 401', async () => {
    const malformed = await me({ headers: { authorization: 'Bearer not-a-kiln-token' } });
    expect(malformed.status).toBe(401);
    expect(JSON.stringify(malformed.body)).not.toContain('not-a-kiln-token');
    const unknown = await me({ headers: { authorization: `Bearer kiln_${'A'.repeat(43)}` } });
    expect(unknown.status).toBe(401);
  });

  it('needs a signed-in user to make a token', async () => {
    const answer = await call('POST', '/v1/accounts/tokens', { body: { name: 'x' } });
    expect(answer.status).toBe(401);
  });
});
