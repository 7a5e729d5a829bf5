#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { SingleBar, Presets } from 'cli-progress';
import { MongoClient } from 'mongodb';
import { z } from 'zod';
import { openEventStore } from '@kiln/event-store/open';
import { loadConfig } from '@kiln/service-kit/config';
import { readModelDatabaseOf } from '#src/config.ts';
import { projectionNamed, projections } from '#src/projections/all.ts';
import { rebuildProjection } from '#src/rebuild/rebuild.ts';

const usage = `usage: npm run rebuild -- <${projections.map((projection) => projection.name).join('|')}|all> [options]

Rebuilds a projection from position zero into fresh collections while the live ones keep serving, then
swaps them in. Reads EVENTSTORE_URL, EVENTSTORE_SCHEMA and MONGO_URL like the service.

  --batch-size <n>        events read from $all at a time (default 2000)
  --progress-every <ms>   off a terminal, one progress line this often (default 1000)`;

function fail(message: string): never {
  console.error(`kiln rebuild: ${message}\n\n${usage}`);
  process.exit(2);
}
const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    help: { type: 'boolean' },
    'batch-size': { type: 'string', default: '2000' },
    'progress-every': { type: 'string', default: '1000' },
  },
});
const wanted = positionals[0];
if (values.help || !wanted) {
  console.log(usage);
  process.exit(wanted || values.help ? 0 : 2);
}
const chosen = wanted === 'all' ? [...projections] : [projectionNamed(wanted)];
if (chosen.some((projection) => projection === undefined)) fail(`there is no projection named ${wanted}`);
const batchSize = z.coerce.number().int().min(1).max(10_000).safeParse(values['batch-size']);
const progressEvery = z.coerce.number().int().min(10).max(60_000).safeParse(values['progress-every']);
if (!batchSize.success) fail('--batch-size is a whole number from 1 to 10000');
if (!progressEvery.success) fail('--progress-every is a number of milliseconds from 10 to 60000');

const config = loadConfig(
  z.object({
    EVENTSTORE_URL: z
      .string()
      .regex(/^(postgres(ql)?|esdb(\+discover)?):\/\//, 'a postgres:// or esdb:// URL'),
    EVENTSTORE_SCHEMA: z.string().default('kiln_events'),
    MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URL'),
  }),
);
const store = await openEventStore(config.EVENTSTORE_URL, { schema: config.EVENTSTORE_SCHEMA });
const mongo = await new MongoClient(config.MONGO_URL).connect();
try {
  for (const projection of chosen) {
    if (!projection) continue;
    // On a terminal the bar redraws in place; anywhere else (a pipe, CI, a log) it prints one line
    // every --progress-every ms.
    const bar = new SingleBar(
      {
        format: `${projection.name.padEnd(16)} [{bar}] {value}/{total} events | {rate} events/s | {eta_formatted}`,
        noTTYOutput: true,
        notTTYSchedule: progressEvery.data,
      },
      Presets.shades_classic,
    );
    let started = false;
    const result = await rebuildProjection({
      store,
      db: mongo.db(readModelDatabaseOf(config.MONGO_URL)),
      projection,
      batchSize: batchSize.data,
      onProgress: ({ done, total, eventsPerSecond }) => {
        const rate = { rate: Math.round(eventsPerSecond) };
        if (!started) bar.start(Math.max(total, 1), done, rate);
        started = true;
        bar.setTotal(Math.max(total, 1));
        bar.update(done, rate);
      },
    });
    bar.stop();
    console.log(
      `${result.projection}: generation ${result.generation} swapped in after ${result.events} events in ${result.seconds.toFixed(1)} s (${Math.round(result.events / Math.max(result.seconds, 0.001))} events/s)${result.resumed ? ', resumed' : ''}`,
    );
  }
} finally {
  await store.close();
  await mongo.close();
}
