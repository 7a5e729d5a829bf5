import type { PublicUser } from '@kiln/contracts/accounts/http';
import type { Balance } from '@kiln/contracts/views';
import { redirect } from 'react-router';
import { kiln, withSetCookies, type Problem } from './kiln.server.ts';

export type Viewer = {
  user: PublicUser | null;
  balance: Pick<Balance, 'available' | 'reserved'> | null;
  /** Why the balance is missing while signed in, as a message. */
  balanceProblem: string | null;
  /** The services answered something other than "not signed in" when asked who this is. */
  problem: Problem | null;
};

/** Who is signed in (the command service knows the session) and their balance (from the query service). */
export const viewerOf = async (request: Request): Promise<Viewer> => {
  const services = kiln();
  const me = await services.command<PublicUser>('/v1/accounts/me', { request });
  if (!me.ok) {
    return {
      user: null,
      balance: null,
      balanceProblem: null,
      problem: me.status === 401 ? null : me.problem,
    };
  }
  // After a command (`?after=<position>` on the page), the balance waits until it includes that position.
  const after = new URL(request.url).searchParams.get('after');
  const balancePath = `/v1/accounts/me/balance${after ? `?after=${encodeURIComponent(after)}` : ''}`;
  const balance = await services.query<Balance>(balancePath, { request });
  return {
    user: me.data,
    balance: balance.ok ? { available: balance.data.available, reserved: balance.data.reserved } : null,
    balanceProblem: balance.ok ? null : balance.problem.message,
    problem: null,
  };
};

/** A path of this app to go back to after signing in; anything else (another site) becomes the studio. */
export const safeNext = (value: FormDataEntryValue | string | null | undefined): string => {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) {
    return '/studio';
  }
  return value;
};

/** A page for signed-in people: the user, or a redirect to sign in that comes back here. */
export const requireUser = async (request: Request): Promise<PublicUser> => {
  const me = await kiln().command<PublicUser>('/v1/accounts/me', { request });
  if (me.ok) return me.data;
  if (me.status === 401) {
    const url = new URL(request.url);
    throw redirect(`/sign-in?next=${encodeURIComponent(url.pathname + url.search)}`, {
      // A stale session cookie the service cleared is cleared here too.
      headers: withSetCookies(me.setCookies),
    });
  }
  throw new Response(me.problem.message, { status: me.status, statusText: me.problem.code });
};
