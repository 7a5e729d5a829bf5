import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express, { type ErrorRequestHandler } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiProblem } from '@kiln/contracts/http/problem';
import {
  authenticate,
  authOf,
  clearedSessionCookie,
  requireAdmin,
  requireUser,
  SESSION_COOKIE,
  sessionCookie,
} from '#src/http/auth.ts';
import { InvalidCredentials } from '#src/errors.ts';
import { openIsolatedIdentity, uniqueEmail, type IsolatedIdentity } from '#src/testing/isolatedIdentity.ts';

const password = 'correct horse battery staple';

/** A stand-in for the shared error middleware (written elsewhere): the status and code of an ApiProblem. */
const renderProblems: ErrorRequestHandler = (error, _req, res, _next) => {
  if (error instanceof ApiProblem)
    res.status(error.status).json({ code: error.code, message: error.message });
  else if (error instanceof InvalidCredentials) res.status(401).json({ code: 'unauthenticated' });
  else res.status(500).json({ code: 'internal' });
};

describe('express middleware', () => {
  let subject: IsolatedIdentity;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    subject = await openIsolatedIdentity();
    const { identity } = subject;
    const app = express();
    app.use(express.json());
    app.use(authenticate(identity));
    app.post('/sign-in', async (req, res) => {
      const { sessionToken, expiresAt, user } = await identity.signIn(
        req.body as { email: string; password: string },
      );
      res.setHeader('Set-Cookie', sessionCookie(sessionToken, expiresAt, { secure: false }));
      res.json({ user });
    });
    app.post('/sign-out', async (req, res) => {
      const token = /kiln_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      if (token) await identity.signOut(token);
      res
        .setHeader('Set-Cookie', clearedSessionCookie({ secure: false }))
        .status(204)
        .end();
    });
    app.get('/whoami', (_req, res) => {
      res.json(authOf(res) ?? { anonymous: true });
    });
    app.get('/me', requireUser, (_req, res) => {
      res.json(authOf(res));
    });
    app.get('/admin', requireAdmin, (_req, res) => {
      res.json({ ok: true });
    });
    app.use(renderProblems);
    server = await new Promise<Server>((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await subject.dispose();
  });

  const signUpAndIn = async (role: 'user' | 'admin' = 'user') => {
    const email = uniqueEmail(role);
    const user = await subject.identity.signUp({ email, password, displayName: role });
    if (role === 'admin') await subject.identity.setRole(user.id, 'admin');
    const response = await fetch(`${base}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('set-cookie') ?? '';
    const cookie = setCookie.split(';')[0]!;
    return { user: { ...user, role }, setCookie, cookie };
  };

  it('signs in with a cookie that is HttpOnly and SameSite=Lax, and reads it back', async () => {
    const { user, setCookie, cookie } = await signUpAndIn();
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43};`));
    expect(setCookie).toMatch(/; HttpOnly/);
    expect(setCookie).toMatch(/; SameSite=Lax/);
    expect(setCookie).toMatch(/; Path=\//);
    expect(setCookie).toMatch(/; Max-Age=\d+/);
    const me = await fetch(`${base}/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user, via: 'session' });
  });

  it('authenticates with a bearer API token', async () => {
    const { user } = await signUpAndIn();
    const { token } = await subject.identity.createApiToken(user.id, 'bearer test');
    const me = await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ user, via: 'token' });
  });

  it('answers 401 on requireUser routes when anonymous, signed out or revoked', async () => {
    const anonymous = await fetch(`${base}/me`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({
      code: 'unauthenticated',
      message: 'sign in, or send an API token',
    });

    const { user, cookie } = await signUpAndIn();
    const signedOut = await fetch(`${base}/sign-out`, { method: 'POST', headers: { cookie } });
    expect(signedOut.headers.get('set-cookie')).toMatch(/^kiln_session=; Max-Age=0/);
    expect((await fetch(`${base}/me`, { headers: { cookie } })).status).toBe(401);

    const { id, token } = await subject.identity.createApiToken(user.id, 'soon revoked');
    await subject.identity.revokeApiToken(user.id, id);
    expect((await fetch(`${base}/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('lets anonymous requests through authenticate, but refuses a malformed Authorization header', async () => {
    expect(await (await fetch(`${base}/whoami`)).json()).toEqual({ anonymous: true });
    const malformed = await fetch(`${base}/whoami`, {
      headers: { authorization: 'Basic c2VjcmV0OnNlY3JldA==' },
    });
    expect(malformed.status).toBe(401);
    expect(await malformed.text()).not.toContain('c2VjcmV0');
  });

  it('answers 401 to anonymous, 403 to a user and passes an admin on requireAdmin routes', async () => {
    expect((await fetch(`${base}/admin`)).status).toBe(401);
    const { cookie: userCookie } = await signUpAndIn('user');
    const forbidden = await fetch(`${base}/admin`, { headers: { cookie: userCookie } });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ code: 'forbidden' });
    const { cookie: adminCookie, user: admin } = await signUpAndIn('admin');
    const allowed = await fetch(`${base}/admin`, { headers: { cookie: adminCookie } });
    expect(allowed.status).toBe(200);
    const { token } = await subject.identity.createApiToken(admin.id, 'admin script');
    expect((await fetch(`${base}/admin`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
      200,
    );
  });

  it('answers 401 to a wrong password without setting a cookie', async () => {
    const email = uniqueEmail();
    await subject.identity.signUp({ email, password, displayName: 'Wrong' });
    const response = await fetch(`${base}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'not it at all' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
  });
});
