import { afterEach, describe, expect, it } from 'vitest';
import { createRateLimiter, describeLimit } from '#src/rateLimit.ts';
import { createRedis, type Redis } from '#src/redis.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';
import { deadRedisUrl } from '#src/testing/redisTestUrl.ts';

const clients: Redis[] = [];
afterEach(() => {
  clients.splice(0).forEach((client) => client.disconnect());
});

describe('describeLimit', () => {
  it.each([
    [100, 60, 'at most 100 requests a minute'],
    [1, 1, 'at most 1 request a second'],
    [20, 3600, 'at most 20 requests an hour'],
    [5, 10, 'at most 5 requests every 10 seconds'],
  ])('%i per %is reads "%s"', (points, seconds, words) => {
    expect(describeLimit(points, seconds)).toBe(words);
  });
});

describe('createRateLimiter when Redis is away', () => {
  it('falls back to counting in this process instead of failing requests', async () => {
    const { logger } = captureLogs();
    const redis = createRedis(await deadRedisUrl(), { name: 'nobody-home', logger });
    clients.push(redis);
    const limiter = createRateLimiter(redis, { name: 'insured', points: 2, durationSeconds: 60 });
    await expect(limiter.consume('ada')).resolves.toMatchObject({ remainingPoints: 1 });
    await expect(limiter.consume('ada')).resolves.toMatchObject({ remainingPoints: 0 });
    await expect(limiter.consume('ada')).rejects.toMatchObject({ remainingPoints: 0 });
    await expect(limiter.consume('grace')).resolves.toMatchObject({ remainingPoints: 1 });
  });
});
