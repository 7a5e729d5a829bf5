#!/usr/bin/env node
// Rebuild of the ledger and jobs projections from position zero (reading $all from the event store,
// folding, writing into fresh collections), side by side in one run with a raw bulkWrite of the same
// final documents into the same server. Against FerretDB locally; against MongoDB when MONGO_URL names one.
import { randomUUID } from 'node:crypto';
import { MongoClient, type Document } from 'mongodb';
import pg from 'pg';
import type { KilnEvent } from '@kiln/contracts/events';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import { printTable, saveResults, type BenchRow } from '@kiln/stack/bench';
import { ensureStack } from '@kiln/stack/testing';
import { jobsProjection } from '#src/projections/jobs.ts';
import { ledgerProjection } from '#src/projections/ledger.ts';
import { loadState } from '#src/readModels/projectionState.ts';
import { rebuildProjection } from '#src/rebuild/rebuild.ts';
import { appendHistory, generateHistory } from '#src/testing/history.ts';

const accounts = Number(process.env['BENCH_ACCOUNTS'] ?? 100);
const jobsPerAccount = Number(process.env['BENCH_JOBS_PER_ACCOUNT'] ?? 40);
const rounds = Number(process.env['BENCH_ROUNDS'] ?? 2);
const urls = await ensureStack('test');
const mongoUrl = process.env['MONGO_URL'] ?? urls.mongoUrl;
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const schema = `es_qbench_${run}`;

const store = await createPostgresEventStore<KilnEvent>({ connectionString: urls.eventStoreUrl, schema });
const mongo = await new MongoClient(mongoUrl).connect();
const databases: string[] = [];
const freshDb = (label: string) => {
  const name = `kiln_qbench_${label}_${run}`;
  databases.push(name);
  return mongo.db(name);
};

console.log(`appending a history of ${accounts} accounts × ${jobsPerAccount} jobs…`);
await appendHistory(store, generateHistory({ accounts, jobsPerAccount, sessions: 10, seed: 42 }));
const events = await store.countAll();
console.log(`${events} events in $all; ${rounds} rounds, best of each side`);

/** The raw side: the rebuild's own final documents, written by bulkWrite into fresh collections. */
const rawBulkWrite = async (documents: Record<string, Document[]>, label: string) => {
  const db = freshDb(label);
  for (const name of Object.keys(documents)) await db.createCollection(name);
  const started = performance.now();
  for (const [name, docs] of Object.entries(documents)) {
    for (let from = 0; from < docs.length; from += 1_000) {
      await db.collection(name).bulkWrite(
        docs.slice(from, from + 1_000).map((document) => ({ insertOne: { document } })),
        { ordered: false },
      );
    }
  }
  return (performance.now() - started) / 1000;
};

const rows: BenchRow[] = [];
for (const projection of [ledgerProjection, jobsProjection]) {
  let kilnSeconds = Number.POSITIVE_INFINITY;
  let rawSeconds = Number.POSITIVE_INFINITY;
  let documentCount = 0;
  for (let round = 0; round < rounds; round += 1) {
    const db = freshDb(`${projection.name}_${round}`);
    const result = await rebuildProjection({ store, db, projection, retireAfterMs: 0 });
    kilnSeconds = Math.min(kilnSeconds, result.seconds);
    const state = await loadState(db, projection.name);
    const documents: Record<string, Document[]> = {};
    for (const [logical, physical] of Object.entries(state?.collections ?? {}))
      documents[logical] = await db.collection(physical).find({}).toArray();
    documentCount = Object.values(documents).reduce((sum, docs) => sum + docs.length, 0);
    rawSeconds = Math.min(rawSeconds, await rawBulkWrite(documents, `${projection.name}_raw_${round}`));
  }
  console.log(
    `${projection.name}: rebuild ${kilnSeconds.toFixed(2)} s, raw bulkWrite of its ${documentCount} final documents ${rawSeconds.toFixed(2)} s`,
  );
  rows.push({
    path: `rebuild ${projection.name}`,
    unit: 'events/s',
    kiln: events / kilnSeconds,
    baseline: events / rawSeconds,
    baselineName: 'raw bulkWrite of the final documents',
  });
}

const buildInfo = await mongo.db().admin().command({ buildInfo: 1 });
const server = buildInfo['ferretdbVersion']
  ? `FerretDB ${String(buildInfo['ferretdbVersion'])}`
  : `MongoDB ${String(buildInfo['version'])}`;
printTable(`query-service rebuild (${events} events, ${server})`, rows);
await saveResults('query-service', rows);

for (const database of databases) await mongo.db(database).dropDatabase();
await mongo.close();
await store.close();
const admin = new pg.Client({ connectionString: urls.eventStoreUrl });
await admin.connect();
await admin.query(`drop schema if exists ${schema} cascade`);
await admin.end();
