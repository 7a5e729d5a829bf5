import { randomUUID } from 'node:crypto';
import { ErrorEnvelope } from '@kiln/contracts/http/envelope';
import { afterEach, describe, expect, it } from 'vitest';
import { sendOk } from '#src/http.ts';
import { createRateLimiter, rateLimit } from '#src/rateLimit.ts';
import { createRedis, type Redis } from '#src/redis.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';
import { redisTestUrl, untilReady } from '#src/testing/redisTestUrl.ts';
import { kitApp, startServer } from '#src/testing/testServer.ts';

const clients: Redis[] = [];
afterEach(() => {
  clients.splice(0).forEach((client) => client.disconnect());
});

/** One service instance: its own Redis connection, limiter and HTTP server. */
async function startInstance(name: string, points: number) {
  const { logger } = captureLogs();
  const redis = createRedis(redisTestUrl(), { name: 'rate-limit-test', logger });
  clients.push(redis);
  await untilReady(redis);
  const limiter = createRateLimiter(redis, { name, points, durationSeconds: 60 });
  const app = kitApp({ logger }, (app) => {
    app.get(
      '/ping',
      rateLimit(limiter, (req) => req.get('x-user')),
      (_req, res) => {
        sendOk(res, 'pong');
      },
    );
  });
  const { url } = await startServer(app, logger);
  return (user?: string) => fetch(`${url}/ping`, { headers: user ? { 'x-user': user } : {} });
}

describe('rateLimit on a real Redis', () => {
  it('answers the request over the limit with 429 and Retry-After', async () => {
    const ping = await startInstance(`test-${randomUUID()}`, 3);
    for (const remaining of ['2', '1', '0']) {
      const response = await ping('ada');
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-limit')).toBe('3');
      expect(response.headers.get('ratelimit-remaining')).toBe(remaining);
    }
    const refused = await ping('ada');
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    const { error } = ErrorEnvelope.parse(await refused.json());
    expect(error).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(error.message).toBe(
      `too many requests: at most 3 requests a minute; try again in ${retryAfter} s`,
    );
  });

  it('shares one budget between instances using the same limiter name', async () => {
    const name = `test-${randomUUID()}`;
    const [first, second] = await Promise.all([startInstance(name, 3), startInstance(name, 3)]);
    expect((await first('grace')).status).toBe(200);
    expect((await second('grace')).status).toBe(200);
    expect((await first('grace')).status).toBe(200);
    expect((await second('grace')).status).toBe(429);
    expect((await first('grace')).status).toBe(429);
  });

  it('keeps a separate budget per key and per limiter name', async () => {
    const name = `test-${randomUUID()}`;
    const ping = await startInstance(name, 1);
    const otherLimit = await startInstance(`test-${randomUUID()}`, 1);
    expect((await ping('linus')).status).toBe(200);
    expect((await ping('linus')).status).toBe(429);
    expect((await ping('margaret')).status).toBe(200);
    expect((await otherLimit('linus')).status).toBe(200);
  });

  it('skips requests without a key', async () => {
    const ping = await startInstance(`test-${randomUUID()}`, 1);
    for (let i = 0; i < 3; i++) {
      const response = await ping();
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-limit')).toBeNull();
    }
  });
});
