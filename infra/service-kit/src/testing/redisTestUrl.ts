import { createServer } from 'node:net';
import { testEnv } from '@kiln/stack/testing';
import type { Redis } from 'ioredis';

/** REDIS_URL when set, else the test profile's Redis (shared with other suites: use unique key names). */
export const redisTestUrl = (): string => testEnv().redisUrl;

/** A loopback URL where no Redis listens: a port that was free a moment ago. */
export async function deadRedisUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `redis://127.0.0.1:${port}`;
}

export async function untilReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve) => redis.once('ready', () => resolve()));
}
