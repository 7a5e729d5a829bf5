import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '@kiln/service-kit/redis';
import { testEnv } from '@kiln/stack/testing';
import { createIdempotencyStore } from '#src/adapters/idempotencyStore.ts';

const redis = createRedis(testEnv().redisUrl, { name: 'idempotency-test' });
afterAll(() => redis.disconnect());

const storeFor = (options: { leaseSeconds?: number } = {}) =>
  createIdempotencyStore(redis, { prefix: `kiln:idempotency:test-${randomUUID()}`, ...options });

describe('idempotency records in Redis', () => {
  it('claims a key once; others see it running, then get the kept answer; another body is a mismatch', async () => {
    const [instanceA, instanceB] = [storeFor(), storeFor()];
    const shared = createIdempotencyStore(redis, { prefix: 'kiln:idempotency:shared-test' });
    const key = randomUUID();
    expect(await shared.claim('user1', key, 'fp')).toEqual({ kind: 'claimed' });
    expect(await shared.claim('user1', key, 'fp')).toEqual({ kind: 'running' });
    expect(await shared.claim('user1', key, 'other')).toEqual({ kind: 'mismatch' });
    await shared.complete('user1', key, 'fp', { status: 202, body: { ok: true, data: 1 } });
    expect(await shared.claim('user1', key, 'fp')).toEqual({
      kind: 'replay',
      answer: { status: 202, body: { ok: true, data: 1 } },
    });
    // Keys are per user (scope), and per store prefix.
    expect(await shared.claim('user2', key, 'fp')).toEqual({ kind: 'claimed' });
    expect(await instanceA.claim('user1', key, 'fp')).toEqual({ kind: 'claimed' });
    expect(await instanceB.claim('user1', key, 'fp')).toEqual({ kind: 'claimed' });
  });

  it('lets a key be taken again when its holder died (the lease ran out) or gave it back', async () => {
    const store = storeFor({ leaseSeconds: 0.2 });
    const key = randomUUID();
    expect((await store.claim('u', key, 'fp')).kind).toBe('claimed');
    expect((await store.claim('u', key, 'fp')).kind).toBe('running');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await store.claim('u', key, 'fp')).kind).toBe('claimed');
    await store.release('u', key);
    expect((await store.claim('u', key, 'fp')).kind).toBe('claimed');
  });
});
