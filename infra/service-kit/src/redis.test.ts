import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, redisReadiness, type Redis } from '#src/redis.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';
import { deadRedisUrl } from '#src/testing/redisTestUrl.ts';

const clients: Redis[] = [];
afterEach(() => {
  clients.splice(0).forEach((client) => client.disconnect());
});

describe('createRedis when Redis is away', () => {
  it('logs the outage once instead of throwing, and readiness fails fast', async () => {
    const { logger, lines } = captureLogs();
    const redis = createRedis(await deadRedisUrl(), { name: 'nobody-home', logger });
    clients.push(redis);
    await new Promise((resolve) => setTimeout(resolve, 500)); // several reconnect attempts
    const failures = lines.filter((line) => line.msg === 'redis connection failed; reconnecting');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ redis: 'nobody-home', level: 50 });
    const started = Date.now();
    await expect(redisReadiness(redis)()).rejects.toThrow(/redis is (connecting|reconnecting)/);
    expect(Date.now() - started).toBeLessThan(100);
  });
});
