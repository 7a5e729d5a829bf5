#!/usr/bin/env node
// Append and read-all throughput of the PostgreSQL event store, side by side in one run with raw
// single-row INSERTs and a raw paged SELECT of the same payload on the same server.
import pg from 'pg';
import type { KilnEvent } from '@kiln/contracts/events';
import { ensureStack } from '@kiln/stack/testing';
import { createPostgresEventStore } from '#src/postgres/postgresEventStore.ts';
import { progressed, uniqueId } from '#src/testing/events.ts';
import { printTable, saveResults, type BenchRow } from '@kiln/stack/bench';

const url = process.env['EVENTSTORE_URL'] ?? (await ensureStack('test')).eventStoreUrl;
const seconds = Number(process.env['BENCH_SECONDS'] ?? 5);
const schema = `bench_${uniqueId().toLowerCase()}`;

const store = await createPostgresEventStore<KilnEvent>({
  connectionString: url,
  schema,
  maxConnections: 20,
});
const raw = new pg.Pool({ connectionString: url, max: 20 });
await raw.query(
  `create table ${schema}.raw_events (id bigint generated always as identity primary key, payload jsonb not null)`,
);

/** Runs `writers` loops of `write` for the time given; answers operations per second. */
const throughput = async (writers: number, write: (writer: number, index: number) => Promise<unknown>) => {
  const until = performance.now() + seconds * 1000;
  let done = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: writers }, async (_, writer) => {
      for (let index = 0; performance.now() < until; index += 1) {
        await write(writer, index);
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - began) / 1000);
};

const rows: BenchRow[] = [];
for (const writers of [1, 16]) {
  const jobIds = Array.from({ length: writers }, () => uniqueId('bench'));
  const revisions: (number | 'no_stream')[] = jobIds.map(() => 'no_stream');
  const rawRate = await throughput(writers, (writer) =>
    raw.query({
      name: 'raw-insert',
      text: `insert into ${schema}.raw_events (payload) values ($1)`,
      values: [JSON.stringify(progressed(jobIds[writer]!, 0.5))],
    }),
  );
  const storeRate = await throughput(writers, async (writer) => {
    const jobId = jobIds[writer]!;
    const result = await store.appendToStream(`job-${jobId}`, [progressed(jobId, 0.5)], {
      expectedRevision: revisions[writer]!,
    });
    revisions[writer] = result.nextExpectedRevision;
  });
  rows.push({
    path: `append, ${writers} writer${writers > 1 ? 's' : ''}`,
    unit: 'events/s',
    kiln: storeRate,
    baseline: rawRate,
    baselineName: 'raw INSERT',
  });
}

const pageSize = 1000;
const readAllRate = async (reader: typeof store) => {
  const began = performance.now();
  let count = 0;
  let after: string | undefined;
  for (;;) {
    const page = await reader.readAll(after ? { after, maxCount: pageSize } : { maxCount: pageSize });
    if (page.length === 0) break;
    count += page.length;
    after = page.at(-1)!.position;
  }
  return { count, rate: count / ((performance.now() - began) / 1000) };
};
const rawSelectRate = async () => {
  const began = performance.now();
  let count = 0;
  let after = 0;
  for (;;) {
    const page = await raw.query<{ id: string; payload: unknown }>(
      `select id, payload from ${schema}.raw_events where id > $1 order by id limit $2`,
      [after, pageSize],
    );
    if (page.rows.length === 0) break;
    count += page.rows.length;
    after = Number(page.rows.at(-1)!.id);
  }
  return { count, rate: count / ((performance.now() - began) / 1000) };
};
const parsingStore = await createPostgresEventStore<KilnEvent>({
  connectionString: url,
  schema,
  parseOnRead: true,
});
/** Both sides the same way: passes over the same rows (the first ones warm caches and the JIT), the median kept. */
const median = async (pass: () => Promise<{ count: number; rate: number }>) => {
  const passes = [];
  for (let index = 0; index < 5; index += 1) passes.push(await pass());
  passes.sort((a, b) => a.rate - b.rate);
  return passes[2]!;
};
const rawRead = await median(rawSelectRate);
const storeRead = await median(() => readAllRate(store));
const parsedRead = await median(() => readAllRate(parsingStore));
await parsingStore.close();
const readPath = (events: number) =>
  `read $all (${events} events vs ${rawRead.count} rows, pages of ${pageSize})`;
rows.push(
  {
    path: readPath(storeRead.count),
    unit: 'events/s',
    kiln: storeRead.rate,
    baseline: rawRead.rate,
    baselineName: 'raw SELECT',
  },
  {
    path: `${readPath(parsedRead.count)}, each event re-checked by zod`,
    unit: 'events/s',
    kiln: parsedRead.rate,
    baseline: rawRead.rate,
    baselineName: 'raw SELECT',
  },
);

printTable('event store (PostgreSQL)', rows);
await saveResults('event-store', rows);
await raw.query(`drop schema ${schema} cascade`);
await raw.end();
await store.close();
