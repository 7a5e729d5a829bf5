import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '@kiln/stack/testing';
import { jobsProjection } from '#src/projections/jobs.ts';
import { createReadModels, type ReadModelDocs, type ReadModels } from '#src/readModels/collections.ts';
import { claimRebuild } from '#src/readModels/projectionState.ts';

let mongo: MongoClient;
let db: Db;
let readModels: ReadModels;
beforeAll(async () => {
  mongo = await new MongoClient(testEnv().mongoUrl).connect();
  db = mongo.db(`kiln_qidx_${randomUUID().replaceAll('-', '').slice(0, 10)}`);
  readModels = createReadModels(db, { refreshMs: 0 });
  await readModels.ensureIndexes();
});
afterAll(async () => {
  await db.dropDatabase();
  await mongo.close();
});

type Direction = 1 | -1;
/** A query the service runs: fields it matches exactly, then the fields it sorts (or ranges) on. */
type QueryShape = {
  name: string;
  collection: keyof ReadModelDocs;
  equal: string[];
  sort: Array<[string, Direction]>;
};

const queries: QueryShape[] = [
  {
    name: 'my jobs',
    collection: 'jobs',
    equal: ['userId'],
    sort: [
      ['requestedAt', -1],
      ['_id', -1],
    ],
  },
  {
    name: 'my jobs by status',
    collection: 'jobs',
    equal: ['userId', 'status'],
    sort: [
      ['requestedAt', -1],
      ['_id', -1],
    ],
  },
  {
    name: 'my jobs by kind',
    collection: 'jobs',
    equal: ['userId', 'kind'],
    sort: [
      ['requestedAt', -1],
      ['_id', -1],
    ],
  },
  {
    name: "a session's jobs",
    collection: 'jobs',
    equal: ['sessionIds'],
    sort: [
      ['requestedAt', -1],
      ['_id', -1],
    ],
  },
  { name: 'one job', collection: 'jobs', equal: ['_id'], sort: [] },
  { name: "a job's artifacts", collection: 'artifacts', equal: ['jobId'], sort: [] },
  { name: 'one session', collection: 'sessions', equal: ['_id'], sort: [] },
  {
    name: "a session's members",
    collection: 'session_members',
    equal: ['sessionId', 'active'],
    sort: [
      ['joinedAt', 1],
      ['_id', 1],
    ],
  },
  {
    name: 'my sessions',
    collection: 'session_members',
    equal: ['userId', 'active'],
    sort: [
      ['joinedAt', -1],
      ['_id', -1],
    ],
  },
  { name: 'is a member', collection: 'session_members', equal: ['_id'], sort: [] },
  { name: 'a ledger, newest first', collection: 'ledger', equal: ['accountId'], sort: [['position', -1]] },
  {
    name: 'a ledger replayed, oldest first',
    collection: 'ledger',
    equal: ['accountId'],
    sort: [['position', 1]],
  },
  { name: 'a balance', collection: 'balances', equal: ['_id'], sort: [] },
  { name: "a provider's health", collection: 'provider_health', equal: ['_id'], sort: [] },
];

/** An index serves a query when its key starts with the query's exact fields, then its sort (or its reverse). */
const serves = (key: Record<string, number>, query: QueryShape) => {
  const fields = Object.entries(key);
  const equal = fields.slice(0, query.equal.length).map(([field]) => field);
  if ([...equal].sort().join() !== [...query.equal].sort().join()) return false;
  const sorted = fields.slice(query.equal.length);
  const along = (sign: Direction) =>
    query.sort.every(([field, direction], index) => {
      const [indexed, indexedDirection] = sorted[index] ?? [];
      return indexed === field && indexedDirection === direction * sign;
    });
  return along(1) || along(-1);
};

const keysOf = async (physical: string) =>
  ((await db.collection(physical).listIndexes().toArray()) as Array<{ key: Record<string, number> }>).map(
    (index) => index.key,
  );

describe('the read models at start', () => {
  it.each(queries)('have an index for $name', async (query) => {
    const keys = await keysOf((await readModels.collection(query.collection)).collectionName);
    expect(
      keys.some((key) => serves(key, query)),
      JSON.stringify(keys),
    ).toBe(true);
  });

  it('make an index that went missing again on the next start, and index a rebuild from its first write', async () => {
    const jobs = await readModels.collection('jobs');
    await jobs.dropIndex('userId_1_kind_1_requestedAt_-1__id_-1');
    const kindQuery = queries.find((query) => query.name === 'my jobs by kind') as QueryShape;
    expect((await keysOf(jobs.collectionName)).some((key) => serves(key, kindQuery))).toBe(false);
    await createReadModels(db).ensureIndexes();
    expect((await keysOf(jobs.collectionName)).some((key) => serves(key, kindQuery))).toBe(true);

    const { rebuilding } = await claimRebuild(db, jobsProjection);
    for (const query of queries.filter((shape) => shape.collection === 'jobs')) {
      const physical = rebuilding.collections['jobs'] as string;
      expect(
        (await keysOf(physical)).some((key) => serves(key, query)),
        query.name,
      ).toBe(true);
    }
  });
});
