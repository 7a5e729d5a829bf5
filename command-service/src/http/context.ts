import type { Request, Response } from 'express';
import { authOf } from '@kiln/identity/http';
import type { CommandContext } from '#src/app/commandHandler.ts';

/**
 * The metadata every event of this request carries: correlation id, who asks, when. No idempotency key:
 * on a route that is not idempotent an `Idempotency-Key` header means nothing, and must not make a retried
 * request's new events pass for the first one's (an invite retried would answer a token for an invite never
 * recorded).
 */
export const contextOf = (req: Request, res: Response): CommandContext => {
  const auth = authOf(res);
  const correlationId = String(res.locals['correlationId'] ?? req.get('x-correlation-id') ?? 'unknown');
  return {
    correlationId,
    causationId: correlationId,
    actor: auth
      ? { kind: auth.user.role === 'admin' ? 'admin' : 'user', id: auth.user.id }
      : { kind: 'system', id: 'anonymous' },
    now: new Date(),
  };
};

/** For idempotent routes, whose key `mount` has already checked. */
export const keyedContextOf = (req: Request, res: Response): CommandContext & { idempotencyKey: string } => {
  const key = req.get('idempotency-key');
  if (!key) throw new Error('an idempotent route ran without its Idempotency-Key');
  return { ...contextOf(req, res), idempotencyKey: key };
};
