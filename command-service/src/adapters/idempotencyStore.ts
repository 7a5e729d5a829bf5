import type { Redis } from '@kiln/service-kit/redis';

export type StoredAnswer = { status: number; body: unknown };

export type Claim =
  { kind: 'claimed' } | { kind: 'replay'; answer: StoredAnswer } | { kind: 'running' } | { kind: 'mismatch' };

type Record = { fingerprint: string; answer?: StoredAnswer };

/**
 * HTTP idempotency records in Redis, shared by every instance. The first request with a key claims it
 * for a while (`leaseSeconds`); its answer is kept for `keepSeconds` and replayed to every retry with the
 * same body. The same key with another body is a mismatch; a retry while the first still runs is told
 * so. A claim whose holder died expires with its lease and can be taken again.
 *
 * A record Redis loses (a restart without persistence) only costs work: the commands these records
 * guard are idempotent themselves (docs/decisions/005), so a retry runs again to the same outcome.
 */
export const createIdempotencyStore = (
  redis: Redis,
  options: { prefix?: string; leaseSeconds?: number; keepSeconds?: number } = {},
) => {
  const prefix = options.prefix ?? 'kiln:idempotency';
  const leaseMs = (options.leaseSeconds ?? 30) * 1000;
  const keepMs = (options.keepSeconds ?? 24 * 60 * 60) * 1000;
  const keyOf = (scope: string, key: string) => `${prefix}:${scope}:${key}`;

  return {
    async claim(scope: string, key: string, fingerprint: string): Promise<Claim> {
      const redisKey = keyOf(scope, key);
      for (;;) {
        const claimed = await redis.set(
          redisKey,
          JSON.stringify({ fingerprint } satisfies Record),
          'PX',
          leaseMs,
          'NX',
        );
        if (claimed === 'OK') return { kind: 'claimed' };
        const stored = await redis.get(redisKey);
        if (stored === null) continue; // the lease ran out between the two calls: claim again
        const record = JSON.parse(stored) as Record;
        if (record.fingerprint !== fingerprint) return { kind: 'mismatch' };
        return record.answer ? { kind: 'replay', answer: record.answer } : { kind: 'running' };
      }
    },

    async complete(scope: string, key: string, fingerprint: string, answer: StoredAnswer): Promise<void> {
      await redis.set(
        keyOf(scope, key),
        JSON.stringify({ fingerprint, answer } satisfies Record),
        'PX',
        keepMs,
      );
    },

    /** Gives the key back after a failure, so a retry runs the request again. */
    async release(scope: string, key: string): Promise<void> {
      await redis.del(keyOf(scope, key));
    },
  };
};

export type IdempotencyStore = ReturnType<typeof createIdempotencyStore>;
