import type { Request } from 'express';
import { authOf } from '@kiln/identity/http';

/** Rate-limit keys: the signed-in user, and the client's address. */
export const userKey = (req: Request): string | undefined => {
  const auth = req.res ? authOf(req.res) : undefined;
  return auth ? `user:${auth.user.id}` : undefined;
};

export const ipKey = (req: Request): string | undefined => (req.ip ? `ip:${req.ip}` : undefined);
