import { Router } from 'express';
import { ApiProblem } from '@kiln/contracts/http/problem';
import type { IdentityStore } from '@kiln/identity/store';
import { authOf, clearedSessionCookie, SESSION_COOKIE, sessionCookie, userOf } from '@kiln/identity/http';
import type { Credits } from '#src/app/credits.ts';
import { contextOf } from '#src/http/context.ts';
import { routes } from '#src/http/contracts.ts';
import type { Mount } from '#src/http/route.ts';

const sessionTokenOf = (cookieHeader: string | undefined): string | undefined =>
  cookieHeader
    ?.split(';')
    .map((part) => part.trim().split('='))
    .find(([name]) => name === SESSION_COOKIE)?.[1];

/** Sign-up (which opens the billing account), sign-in and -out, and API tokens. */
export const accountRoutes = (deps: {
  mount: Mount;
  identity: IdentityStore;
  credits: Credits;
  secureCookies: boolean;
}): Router => {
  const router = Router();
  const cookieOptions = { secure: deps.secureCookies };

  deps.mount(router, routes.signUp, [], async (input, req, res) => {
    const user = await deps.identity.signUp(input.body);
    await deps.credits.openAccount(user.accountId, user.id, {
      ...contextOf(req, res),
      actor: { kind: 'user', id: user.id },
    });
    const session = await deps.identity.signIn({ email: input.body.email, password: input.body.password });
    res.append('Set-Cookie', sessionCookie(session.sessionToken, session.expiresAt, cookieOptions));
    return { user: session.user, expiresAt: session.expiresAt };
  });

  deps.mount(router, routes.signIn, [], async (input, req, res) => {
    const session = await deps.identity.signIn(input.body);
    // An account opened before its billing account could be (a crash at sign-up) gets it now.
    await deps.credits.openAccount(session.user.accountId, session.user.id, {
      ...contextOf(req, res),
      actor: { kind: 'user', id: session.user.id },
    });
    res.append('Set-Cookie', sessionCookie(session.sessionToken, session.expiresAt, cookieOptions));
    return { user: session.user, expiresAt: session.expiresAt };
  });

  deps.mount(router, routes.signOut, [], async (_input, req, res) => {
    const token = authOf(res)?.via === 'session' ? sessionTokenOf(req.get('cookie')) : undefined;
    if (token) await deps.identity.signOut(token);
    res.append('Set-Cookie', clearedSessionCookie(cookieOptions));
    return { signedOut: true as const };
  });

  deps.mount(router, routes.me, [], (_input, _req, res) => Promise.resolve(userOf(res)));

  deps.mount(router, routes.createToken, [], async (input, _req, res) =>
    deps.identity.createApiToken(userOf(res).id, input.body.name),
  );

  deps.mount(router, routes.revokeToken, [], async (input, _req, res) => {
    if (!(await deps.identity.revokeApiToken(userOf(res).id, input.params.tokenId))) {
      throw new ApiProblem('not_found', 'no such token of yours');
    }
    return { revoked: true as const };
  });
  return router;
};
