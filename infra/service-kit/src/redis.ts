import { Redis } from 'ioredis';
import { currentLogger, type Logger } from '#src/logger.ts';
import type { ReadinessCheck } from '#src/health.ts';

export type { Redis };

export type RedisOptions = {
  /** Shown in logs and as the connection's CLIENT SETNAME, e.g. `command-service:rate-limits`. */
  name: string;
  logger?: Logger;
};

/**
 * An ioredis client that fails a command fast when Redis is away (instead of queueing it for long) and
 * keeps reconnecting in the background. Connection errors are logged, once per outage, never thrown.
 */
export function createRedis(url: string, { name, logger = currentLogger() }: RedisOptions): Redis {
  // Auto-pipelining sends the commands of one event-loop tick in one write: under load, many requests'
  // rate-limit and idempotency commands share a round trip instead of a syscall each.
  const redis = new Redis(url, { connectionName: name, maxRetriesPerRequest: 2, enableAutoPipelining: true });
  const log = logger.child({ redis: name });
  let failing = false;
  redis.on('error', (error: unknown) => {
    if (failing) return;
    failing = true;
    log.error({ err: error }, 'redis connection failed; reconnecting');
  });
  redis.on('ready', () => {
    if (failing) log.info('redis connection restored');
    failing = false;
  });
  return redis;
}

/** For /readyz: Redis is connected and answers PING. */
export const redisReadiness =
  (redis: Redis): ReadinessCheck =>
  async () => {
    if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`);
    await redis.ping();
  };
