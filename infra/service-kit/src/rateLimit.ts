import { ApiProblem } from '@kiln/contracts/http/problem';
import type { Request, RequestHandler, Response } from 'express';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export type RateLimiterOptions = {
  /** Names the budget: limiters with the same name on the same Redis share it, across instances. */
  name: string;
  points: number;
  durationSeconds: number;
};

export type RateLimiter = RateLimiterOptions & {
  /** The limit in words, for the 429 message: "at most 100 requests a minute". */
  description: string;
  consume: (key: string) => Promise<RateLimiterRes>;
  /** Gives back a point a request took, when it turns out not to count (an idempotent replay). */
  refund: (key: string) => Promise<void>;
};

const periods: Record<number, string> = { 1: 'a second', 60: 'a minute', 3600: 'an hour', 86400: 'a day' };

export const describeLimit = (points: number, durationSeconds: number): string =>
  `at most ${points} request${points === 1 ? '' : 's'} ${periods[durationSeconds] ?? `every ${durationSeconds} seconds`}`;

/**
 * A fixed-window limit counted in Redis, so it holds across instances. When Redis is away the count falls
 * back to this process's memory (the insurance limiter): limits loosen to per-instance, requests go on.
 */
export function createRateLimiter(
  redis: Redis,
  { name, points, durationSeconds }: RateLimiterOptions,
): RateLimiter {
  const keyPrefix = `kiln:rate-limit:${name}`;
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration: durationSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration: durationSeconds }),
  });
  return {
    name,
    points,
    durationSeconds,
    description: describeLimit(points, durationSeconds),
    consume: (key) => limiter.consume(key),
    refund: async (key) => {
      await limiter.reward(key, 1);
    },
  };
}

const setLimitHeaders = (res: Response, limiter: RateLimiter, state: RateLimiterRes): void => {
  res.setHeader('RateLimit-Limit', String(limiter.points));
  res.setHeader('RateLimit-Remaining', String(Math.max(0, state.remainingPoints)));
  res.setHeader('RateLimit-Reset', String(Math.ceil(state.msBeforeNext / 1000)));
};

export type RateLimitRule = [
  limiter: RateLimiter,
  keyOf: (req: Request, res: Response) => string | undefined,
];

const rejectionOf = (limiter: RateLimiter, rejection: RateLimiterRes): ApiProblem => {
  const retryAfterSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
  return new ApiProblem(
    'rate_limited',
    `too many requests: ${limiter.description}; try again in ${retryAfterSeconds} s`,
    {
      retryAfterSeconds,
      details: { limit: limiter.points, windowSeconds: limiter.durationSeconds, retryAfterSeconds },
    },
  );
};

export type CountedRequest = {
  /** Gives back the points this request took from every limit (it turned out not to count). */
  refund: () => Promise<void>;
};

/**
 * One point per request for each rule's key (a user id from `res.locals`, `req.ip`...; `undefined` skips
 * that rule). The rules are checked at once, so with Redis auto-pipelining they share one round trip.
 * Over any limit: rejects with a 429 `rate_limited` ApiProblem carrying `Retry-After`; the headers
 * describe the limit closest to running out. Either way the request can be given back its points.
 */
export async function countRequest(
  rules: RateLimitRule[],
  req: Request,
  res: Response,
): Promise<CountedRequest & { rejection?: ApiProblem }> {
  const applicable = rules.flatMap(([limiter, keyOf]) => {
    const key = keyOf(req, res);
    return key === undefined ? [] : [{ limiter, key }];
  });
  const outcomes = await Promise.all(
    applicable.map(async ({ limiter, key }) => {
      try {
        return { limiter, key, result: await limiter.consume(key), rejected: false };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        return { limiter, key, result: rejection, rejected: true };
      }
    }),
  );
  const rejected = outcomes.find((outcome) => outcome.rejected);
  const tightest =
    rejected ??
    outcomes.reduce<(typeof outcomes)[number] | undefined>(
      (closest, outcome) =>
        !closest || outcome.result.remainingPoints < closest.result.remainingPoints ? outcome : closest,
      undefined,
    );
  if (tightest) setLimitHeaders(res, tightest.limiter, tightest.result);
  const refund = async () => {
    await Promise.all(outcomes.map(({ limiter, key }) => limiter.refund(key)));
  };
  return rejected ? { refund, rejection: rejectionOf(rejected.limiter, rejected.result) } : { refund };
}

/** `countRequest` as a middleware: over a limit, the 429 through errorMiddleware. */
export function rateLimits(...rules: RateLimitRule[]): RequestHandler {
  return async (req, res, next) => {
    const counted = await countRequest(rules, req, res);
    if (counted.rejection) throw counted.rejection;
    next();
  };
}

/** One limit: `rateLimits` with a single rule. */
export const rateLimit = (limiter: RateLimiter, keyOf: RateLimitRule[1]): RequestHandler =>
  rateLimits([limiter, keyOf]);
