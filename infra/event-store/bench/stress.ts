#!/usr/bin/env node
// The full stress run: 16 concurrent writers and a live subscriber over a million events (or the count
// given: `npm run stress -- 200000`). Exits 1 unless every event was seen exactly once, in global order.
import type { KilnEvent } from '@kiln/contracts/events';
import { ensureStack } from '@kiln/stack/testing';
import { createPostgresEventStore } from '#src/postgres/postgresEventStore.ts';
import { uniqueId } from '#src/testing/events.ts';
import { runStress } from '#src/testing/stress.ts';

const total = Number(process.argv[2] ?? 1_000_000);
if (!Number.isSafeInteger(total) || total < 16) {
  console.error(`usage: npm run stress -- <events, at least 16>; got ${process.argv[2]}`);
  process.exit(2);
}
const writers = 16;
const url = process.env['EVENTSTORE_URL'] ?? (await ensureStack('test')).eventStoreUrl;
const schema = `stress_${uniqueId().toLowerCase()}`;
const store = await createPostgresEventStore<KilnEvent>({
  connectionString: url,
  schema,
  maxConnections: writers + 4,
});

console.log(`stress: ${writers} writers, ${total.toLocaleString('en-US')} events, schema ${schema}`);
const report = await runStress(store, {
  writers,
  eventsPerWriter: Math.ceil(total / writers),
  onProgress: (delivered, all) =>
    console.log(`  delivered ${delivered.toLocaleString('en-US')} / ${all.toLocaleString('en-US')}`),
});
await store.close();

const ok =
  report.delivered === report.appended && report.outOfStreamOrder === 0 && report.outOfGlobalOrder === 0;
console.log(
  `${ok ? 'ok' : 'FAILED'}: appended ${report.appended}, delivered ${report.delivered}, ` +
    `out of stream order ${report.outOfStreamOrder}, out of global order ${report.outOfGlobalOrder}, ` +
    `${report.seconds.toFixed(1)} s (${Math.round(report.appended / report.seconds)} events/s)`,
);
console.log(`the events stay in schema ${schema} of ${url.replace(/\/\/[^@]*@/, '//')}; drop it when done`);
process.exitCode = ok ? 0 : 1;
