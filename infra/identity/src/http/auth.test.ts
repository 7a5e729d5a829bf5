import { parseSetCookie } from 'cookie';
import type { NextFunction, Request, Response } from 'express';
import { describe, expect, it, vi } from 'vitest';
import { ApiProblem } from '@kiln/contracts/http/problem';
import { authenticate, authOf, clearedSessionCookie, sessionCookie } from '#src/http/auth.ts';
import { newApiToken, newSessionToken } from '#src/secretToken.ts';

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Lax, Path=/ and lasts until the session expires', () => {
    const token = newSessionToken();
    const header = sessionCookie(token, new Date(Date.now() + 3_600_000), { secure: false });
    expect(header).toMatch(/; HttpOnly/);
    expect(header).toMatch(/; SameSite=Lax/);
    expect(header).not.toMatch(/; Secure/);
    const cookie = parseSetCookie(header);
    expect(cookie).toMatchObject({ name: 'kiln_session', value: token, path: '/', httpOnly: true });
    expect(cookie.maxAge).toBeGreaterThanOrEqual(3_598);
    expect(cookie.maxAge).toBeLessThanOrEqual(3_600);
  });

  it('is Secure when asked, and accepts an ISO expiry', () => {
    const header = sessionCookie(newSessionToken(), new Date(Date.now() + 60_000).toISOString(), {
      secure: true,
    });
    expect(header).toMatch(/; Secure/);
  });

  it('is cleared with an empty value and Max-Age=0', () => {
    const header = clearedSessionCookie({ secure: true });
    expect(parseSetCookie(header)).toMatchObject({
      name: 'kiln_session',
      value: '',
      maxAge: 0,
      secure: true,
    });
    expect(header).toMatch(/; HttpOnly/);
  });
});

describe('authenticate', () => {
  const run = async (headers: Record<string, string>) => {
    const identity = { userBySessionToken: vi.fn(() => Promise.resolve(null)), userByApiToken: vi.fn() };
    const res = { locals: {} } as unknown as Response;
    const passed = await new Promise<unknown>((resolve) => {
      const next: NextFunction = (error?: unknown) => resolve(error);
      authenticate(identity)({ headers } as Request, res, next);
    });
    return { identity, res, passed };
  };

  it.each([
    'Basic dXNlcjpwYXNz',
    'Bearer',
    'Bearer not-a-kiln-token',
    `Bearer ${newSessionToken()}`,
    `Bearer ${newApiToken()} extra`,
  ])('refuses a malformed Authorization header (%s) with a 401 that does not echo it', async (header) => {
    const { passed, identity } = await run({ authorization: header });
    expect(passed).toBeInstanceOf(ApiProblem);
    expect(passed).toMatchObject({ code: 'unauthenticated', status: 401 });
    expect((passed as ApiProblem).message).toBe(
      'the Authorization header must be "Bearer kiln_…", an API token',
    );
    expect(identity.userByApiToken).not.toHaveBeenCalled();
  });

  it('lets an unknown session through as anonymous', async () => {
    const { passed, res } = await run({ cookie: `kiln_session=${newSessionToken()}` });
    expect(passed).toBeUndefined();
    expect(authOf(res)).toBeUndefined();
  });

  it('lets a request without credentials through without asking the store', async () => {
    const { passed, identity } = await run({});
    expect(passed).toBeUndefined();
    expect(identity.userBySessionToken).not.toHaveBeenCalled();
  });
});
