import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { StackUrls } from '@kiln/stack/testing';

/** Where one run keeps its data on the shared stack: nothing of it outlives the run. */
export type RunPlacement = { schemas: string[]; mongoDatabase: string; redisPrefix: string };

/** The Redis keys the services write under a prefix: idempotency records, rate budgets, presence. */
const redisPatterns = (prefix: string) => [
  `kiln:idempotency:${prefix}:*`,
  `kiln:rate-limit:${prefix}:*`,
  `${prefix}:*`,
];

const dropRedisKeys = async (redisUrl: string, prefix: string) => {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    for (const pattern of redisPatterns(prefix)) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
};

/** Drops the run's PostgreSQL schemas, its read-model database and its Redis keys. */
export const dropRunData = async (urls: StackUrls, placement: RunPlacement): Promise<void> => {
  const client = new pg.Client({ connectionString: urls.eventStoreUrl });
  await client.connect();
  try {
    for (const schema of placement.schemas) await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
  const mongo = await new MongoClient(urls.mongoUrl).connect();
  try {
    await mongo.db(placement.mongoDatabase).dropDatabase();
  } finally {
    await mongo.close();
  }
  await dropRedisKeys(urls.redisUrl, placement.redisPrefix);
};
