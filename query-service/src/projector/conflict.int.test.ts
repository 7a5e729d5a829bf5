import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import { testEnv } from '@kiln/stack/testing';
import { ledgerProjection } from '#src/projections/ledger.ts';
import { DocumentBuffer, ProjectionConflict } from '#src/projector/documentBuffer.ts';
import { foldEvents } from '#src/projector/foldEvents.ts';
import { ensureState } from '#src/readModels/projectionState.ts';
import { appendHistory, generateHistory } from '#src/testing/history.ts';
import { snapshotReadModels } from '#src/testing/snapshot.ts';

const urls = testEnv();
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const schema = `es_qconflict_${run}`;
const databases: string[] = [];
let store: EventStore<KilnEvent>;
let mongo: MongoClient;
let all: RecordedEvent<KilnEvent>[];

const freshDb = (label: string): Db => {
  const name = `kiln_qconflict_${label}_${run}`;
  databases.push(name);
  return mongo.db(name);
};

beforeAll(async () => {
  store = await createPostgresEventStore<KilnEvent>({ connectionString: urls.eventStoreUrl, schema });
  mongo = await new MongoClient(urls.mongoUrl).connect();
  await appendHistory(store, generateHistory({ accounts: 3, jobsPerAccount: 4, sessions: 1, seed: 9 }));
  all = await store.readAll({ maxCount: 10_000 });
});
afterAll(async () => {
  for (const database of databases) await mongo.db(database).dropDatabase();
  await mongo.close();
  await store.close();
  const admin = new pg.Client({ connectionString: urls.eventStoreUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

/** Two projectors on one generation of the ledger: each its own buffer, as in two processes. */
const twoProjectors = async (db: Db) => {
  const state = await ensureState(db, ledgerProjection);
  return [0, 1].map(() => new DocumentBuffer(db, ledgerProjection, state.collections)) as [
    DocumentBuffer,
    DocumentBuffer,
  ];
};

describe('two projectors on one generation', () => {
  it('notice each other when both create the same documents: the second one to write stops', async () => {
    const db = freshDb('create');
    const [first, second] = await twoProjectors(db);
    const half = all.slice(0, Math.floor(all.length / 2));
    await foldEvents(ledgerProjection, first, half);
    await foldEvents(ledgerProjection, second, half);
    await first.flush();
    const written = await snapshotReadModels(db);
    await expect(second.flush()).rejects.toBeInstanceOf(ProjectionConflict);
    expect(await snapshotReadModels(db)).toEqual(written);
  });

  it('notice each other when both change a document: the one that read it before the other wrote stops', async () => {
    const db = freshDb('change');
    const [first, second] = await twoProjectors(db);
    const cut = Math.floor(all.length / 2);
    await foldEvents(ledgerProjection, first, all.slice(0, cut));
    await first.flush();
    // The second has read the balances as the first wrote them; then the first goes on and writes again.
    expect(await foldEvents(ledgerProjection, second, all.slice(0, cut))).toBe(0);
    await foldEvents(ledgerProjection, first, all.slice(cut));
    await first.flush();
    const written = await snapshotReadModels(db);
    // The second folds the same events from the balances it read, now stale, and is refused.
    expect(await foldEvents(ledgerProjection, second, all.slice(cut))).toBeGreaterThan(0);
    await expect(second.flush()).rejects.toBeInstanceOf(ProjectionConflict);
    expect(await snapshotReadModels(db)).toEqual(written);

    // What a projector does next: forget, read again from its checkpoint; the documents have seen it all.
    second.reset();
    expect(await foldEvents(ledgerProjection, second, all.slice(cut))).toBe(0);
    await second.flush();
    expect(await snapshotReadModels(db)).toEqual(written);
  });
});
