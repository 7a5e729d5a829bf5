import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { ApiProblem } from '@kiln/contracts/http/problem';
import { requireAdmin, requireUser, userOf } from '@kiln/identity/http';
import { parseWith, sendOk, type InputPlace } from '@kiln/service-kit/http';
import { countRequest, type CountedRequest, type RateLimitRule } from '@kiln/service-kit/rate-limit';
import type { Claim, IdempotencyStore } from '#src/adapters/idempotencyStore.ts';
import type { Mount, Parsed, RouteContract } from '#src/http/route.ts';

export const IdempotencyKey = z
  .string({ error: 'send an Idempotency-Key header (a UUID, say) so a retry is never charged twice' })
  .min(8)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** JSON with its object keys sorted: the same request always has the same fingerprint. */
const stableJson = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );

/** What makes two requests "the same request" for an idempotency key: method, path and parsed input. */
export const fingerprintOf = (method: string, path: string, input: unknown): string =>
  createHash('sha256')
    .update(`${method} ${path}\n${stableJson(input)}`)
    .digest('hex');

/** Where a value holds text PostgreSQL cannot keep (`text` refuses U+0000; `jsonb` also unpaired surrogates). */
const unstorableTextAt = (value: unknown, path: string): string | undefined => {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, inner] of Object.entries(value)) {
    const found = unstorableTextAt(inner, `${path}.${key}`);
    if (found) return found;
  }
  return undefined;
};

/** `parseWith`, and a 400 (not a database error later) for text that cannot be stored. */
const parsePart = <Schema extends z.ZodType>(schema: Schema, value: unknown, where: InputPlace) => {
  const parsed = parseWith(schema, value, where);
  const at = unstorableTextAt(parsed, where);
  if (at) {
    throw new ApiProblem('validation_failed', `the ${where} is not valid`, {
      details: [{ path: at, message: 'text may not contain NUL (U+0000) or unpaired surrogates' }],
    });
  }
  return parsed;
};

const parseInput = <Route extends RouteContract>(route: Route, req: Request): Parsed<Route> =>
  ({
    params: route.params ? parsePart(route.params, req.params, 'params') : undefined,
    body:
      route.body && route.bodyKind !== 'multipart'
        ? parsePart(route.body, req.body ?? {}, 'body')
        : undefined,
    query: route.query ? parsePart(route.query, req.query, 'query') : undefined,
  }) as Parsed<Route>;

type Counted = CountedRequest & { rejection?: ApiProblem };

/** Counts the request against each of a route's limits (`countRequest`): its outcome, not yet acted on. */
const limitsOf = (rules: RateLimitRule[]) => {
  const nothing: Counted = { refund: () => Promise.resolve() };
  if (rules.length === 0) return () => Promise.resolve(nothing);
  return (req: Request, res: Response): Promise<Counted> => countRequest(rules, req, res);
};

/**
 * Claims an idempotency key while the route's limits are counted: both go out in the same tick, so
 * ioredis pipelines them into one round trip. A retry of a request already answered (or still running,
 * or reusing the key) is about that request, not a new one: it is answered whatever the limits say, and
 * its points are given back. A new request over a limit gets the 429, and its claim is given back.
 */
const claimWithinLimits = async (
  idempotency: IdempotencyStore,
  [scope, key, fingerprint]: [scope: string, key: string, fingerprint: string],
  limits: Promise<Counted>,
): Promise<Claim> => {
  const [claiming, counting] = await Promise.allSettled([idempotency.claim(scope, key, fingerprint), limits]);
  if (claiming.status === 'rejected') throw claiming.reason;
  const claimed = claiming.value;
  if (counting.status === 'rejected') {
    if (claimed.kind === 'claimed') await idempotency.release(scope, key);
    throw counting.reason;
  }
  const counted = counting.value;
  if (claimed.kind !== 'claimed') {
    await counted.refund();
    return claimed;
  }
  if (counted.rejection) {
    await idempotency.release(scope, key);
    throw counted.rejection;
  }
  return claimed;
};

/**
 * Mounts a route from its contract: access check, validation of params, body and query, the handler,
 * and the `{ ok: true, data }` answer. Idempotent routes keep their first successful answer per user
 * and key and replay it (with `Idempotent-Replayed: true`); a failure gives the key back. The route's own
 * rate limits (`options.limits`) are counted once its input is valid.
 */
export const createMount =
  (idempotency: IdempotencyStore): Mount =>
  (router, route, middleware, handler, options = {}) => {
    const access = route.access === 'user' ? [requireUser] : route.access === 'admin' ? [requireAdmin] : [];
    const withinLimits = limitsOf(options.limits ?? []);
    router[route.method](route.path, ...access, ...middleware, async (req: Request, res: Response) => {
      const input = parseInput(route, req);
      if (!route.idempotent) {
        const counted = await withinLimits(req, res);
        if (counted.rejection) throw counted.rejection;
        sendOk(res, await handler(input, req, res), route.success.status);
        return;
      }
      const key = parseWith(IdempotencyKey, req.get('idempotency-key'), 'headers');
      const scope = userOf(res).id;
      const fingerprint = fingerprintOf(route.method, `${req.baseUrl}${req.path}`, input);
      const claim = await claimWithinLimits(idempotency, [scope, key, fingerprint], withinLimits(req, res));
      if (claim.kind === 'replay') {
        res.set('Idempotent-Replayed', 'true').status(claim.answer.status).json(claim.answer.body);
        return;
      }
      if (claim.kind === 'mismatch') {
        throw new ApiProblem(
          'idempotency_key_reused',
          'this Idempotency-Key was used for a different request',
        );
      }
      if (claim.kind === 'running') {
        throw new ApiProblem(
          'conflict',
          'a request with this Idempotency-Key is still running; retry in a moment',
          {
            retryAfterSeconds: 1,
          },
        );
      }
      let data: unknown;
      try {
        data = await handler(input, req, res);
      } catch (error) {
        await idempotency.release(scope, key);
        throw error;
      }
      const body = { ok: true, data };
      await idempotency.complete(scope, key, fingerprint, { status: route.success.status, body });
      res.status(route.success.status).json(body);
    });
  };
