import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, redisReadiness, type Redis } from '#src/redis.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';
import { redisTestUrl, untilReady } from '#src/testing/redisTestUrl.ts';

const clients: Redis[] = [];
afterEach(() => {
  clients.splice(0).forEach((client) => client.disconnect());
});

describe('createRedis on a real Redis', () => {
  it('connects under its name and is ready', async () => {
    const { logger } = captureLogs();
    const redis = createRedis(redisTestUrl(), { name: 'service-kit-test', logger });
    clients.push(redis);
    await untilReady(redis);
    expect(await redis.client('GETNAME')).toBe('service-kit-test');
    await expect(redisReadiness(redis)()).resolves.toBeUndefined();
  });
});
