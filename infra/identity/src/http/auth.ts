import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { PublicUser } from '@kiln/contracts/accounts/http';
import { ApiProblem } from '@kiln/contracts/http/problem';
import type { IdentityStore } from '#src/identityStore.ts';
import { isApiTokenShaped } from '#src/secretToken.ts';

/** The session cookie: http-only, same-site lax, the whole site. */
export const SESSION_COOKIE = 'kiln_session';

export type CookieOptions = { secure: boolean };

/** The `Set-Cookie` value that hands a browser its session token until `expiresAt`. */
export function sessionCookie(token: string, expiresAt: Date | string, { secure }: CookieOptions): string {
  const maxAge = Math.max(0, Math.floor((new Date(expiresAt).getTime() - Date.now()) / 1000));
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: token,
    maxAge,
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
  });
}

/** The `Set-Cookie` value that makes a browser forget its session (after sign-out). */
export function clearedSessionCookie({ secure }: CookieOptions): string {
  return stringifySetCookie({
    name: SESSION_COOKIE,
    value: '',
    maxAge: 0,
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
  });
}

/** Who made a request, and how they proved it. */
export type Auth = { user: PublicUser; via: 'session' | 'token' };

/** The request's Auth, set by `authenticate`; undefined when it is anonymous. */
export const authOf = (res: Response): Auth | undefined => res.locals['auth'] as Auth | undefined;

/** The request's user; ApiProblem 401 when it is anonymous. For handlers behind `requireUser`, too. */
export function userOf(res: Response): PublicUser {
  const auth = authOf(res);
  if (!auth) throw new ApiProblem('unauthenticated', 'sign in, or send an API token');
  return auth.user;
}

const BEARER = /^Bearer +(\S+)$/i;

/** The bearer token of an Authorization header; ApiProblem 401 (never echoing the header) when malformed. */
const bearerToken = (header: string): string => {
  const token = BEARER.exec(header.trim())?.[1];
  if (!token || !isApiTokenShaped(token)) {
    throw new ApiProblem('unauthenticated', 'the Authorization header must be "Bearer kiln_…", an API token');
  }
  return token;
};

type Resolver = Pick<IdentityStore, 'userBySessionToken' | 'userByApiToken'>;

/**
 * Who the credentials of a request name (an Authorization header, else the session cookie); undefined when
 * none or an unknown one. Also for Socket.IO handshakes and other transports that carry the same headers.
 */
export const resolveCredentials = async (
  identity: Resolver,
  headers: { authorization?: string | undefined; cookie?: string | undefined },
): Promise<Auth | undefined> => {
  const authorization = headers.authorization;
  // An Authorization header, when sent, is the credential: a stale cookie beside it is not consulted.
  if (authorization !== undefined) {
    const user = await identity.userByApiToken(bearerToken(authorization));
    return user ? { user, via: 'token' } : undefined;
  }
  const cookieHeader = headers.cookie;
  const sessionToken = cookieHeader ? parseCookie(cookieHeader)[SESSION_COOKIE] : undefined;
  if (!sessionToken) return undefined;
  const user = await identity.userBySessionToken(sessionToken);
  return user ? { user, via: 'session' } : undefined;
};

/**
 * Reads the `kiln_session` cookie or an `Authorization: Bearer kiln_…` header and sets `res.locals.auth`
 * when it names a user. An unknown, expired or revoked credential leaves the request anonymous: routes
 * decide with `requireUser` / `requireAdmin`. Only a malformed Authorization header fails here (401).
 */
export function authenticate(identity: Resolver): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    resolveCredentials(identity, req.headers).then((auth) => {
      if (auth) res.locals['auth'] = auth;
      next();
    }, next);
  };
}

/** Lets signed-in users (by session or token) through; ApiProblem 401 for anyone else. */
export const requireUser: RequestHandler = (_req, res, next) => {
  userOf(res);
  next();
};

/** Lets admins through; 401 when anonymous, ApiProblem 403 for a user who is not an admin. */
export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (userOf(res).role !== 'admin') throw new ApiProblem('forbidden', 'only an admin may do this');
  next();
};
