import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MongoClient, type Db } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import type { EventStore } from '@kiln/event-store/port';
import { testEnv } from '@kiln/stack/testing';
import { projections } from '#src/projections/all.ts';
import { jobsProjection } from '#src/projections/jobs.ts';
import { ledgerProjection } from '#src/projections/ledger.ts';
import { loadState } from '#src/readModels/projectionState.ts';
import { rebuildProjection } from '#src/rebuild/rebuild.ts';
import { mongoUrlWithDatabase } from '#src/testing/harness.ts';
import { appendHistory, generateHistory } from '#src/testing/history.ts';
import { snapshotReadModels } from '#src/testing/snapshot.ts';

const urls = testEnv();
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const schema = `es_qresume_${run}`;
const databases = { cut: `kiln_qresume_cut_${run}`, fresh: `kiln_qresume_fresh_${run}` };
let store: EventStore<KilnEvent>;
let mongo: MongoClient;

beforeAll(async () => {
  store = await createPostgresEventStore<KilnEvent>({ connectionString: urls.eventStoreUrl, schema });
  mongo = await new MongoClient(urls.mongoUrl).connect();
  await appendHistory(store, generateHistory({ accounts: 8, jobsPerAccount: 15, sessions: 2, seed: 5 }));
});
afterAll(async () => {
  for (const database of Object.values(databases)) await mongo.db(database).dropDatabase();
  await mongo.close();
  await store.close();
  const admin = new pg.Client({ connectionString: urls.eventStoreUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

class CutShort extends Error {}

/** A rebuild that dies half way, after it has written and checkpointed part of the new generation. */
const cutHalfWay = async (db: Db, projection: typeof jobsProjection) => {
  await expect(
    rebuildProjection({
      store,
      db,
      projection,
      batchSize: 50,
      maxBufferedDocs: 40,
      onProgress: ({ done, total }) => {
        if (done > total / 2) throw new CutShort();
      },
    }),
  ).rejects.toBeInstanceOf(CutShort);
};

const rebuildCommand = (database: string) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['src/rebuild/main.ts', 'all'], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: {
        ...process.env,
        EVENTSTORE_URL: urls.eventStoreUrl,
        EVENTSTORE_SCHEMA: schema,
        MONGO_URL: mongoUrlWithDatabase(database),
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });

describe('a rebuild cut short', () => {
  it(
    'is resumed by the next npm run rebuild from its own checkpoint, and ends as one from zero',
    { timeout: 180_000 },
    async () => {
      const db = mongo.db(databases.cut);
      const total = await store.countAll();
      const left: Record<string, number> = {};
      for (const projection of [jobsProjection, ledgerProjection]) {
        await cutHalfWay(db, projection);
        const state = await loadState(db, projection.name);
        // The old generation still serves; the new one has a checkpoint part way.
        expect(state).toMatchObject({ generation: 1, rebuilding: { generation: 2 } });
        const checkpoint = state?.rebuilding?.position;
        if (!checkpoint) throw new Error(`no rebuild checkpoint for ${projection.name}`);
        left[projection.name] = await store.countAll({ after: checkpoint });
        expect(left[projection.name]).toBeGreaterThan(0);
        expect(left[projection.name]).toBeLessThan(total);
      }

      const { code, output } = await rebuildCommand(databases.cut);
      expect(code, output).toBe(0);
      for (const name of ['jobs', 'ledger'])
        expect(output).toContain(`${name}: generation 2 swapped in after ${left[name]} events`);
      expect(output).toMatch(
        /jobs: generation 2 swapped in after \d+ events in [\d.]+ s \(\d+ events\/s\), resumed/,
      );
      expect(output).toMatch(
        new RegExp(
          `sessions: generation 2 swapped in after ${total} events in [\\d.]+ s \\(\\d+ events/s\\)\\n`,
        ),
      );
      for (const { name } of projections) {
        const state = await loadState(db, name);
        expect(state?.generation).toBe(2);
        expect(state?.rebuilding).toBeUndefined();
      }

      const fresh = mongo.db(databases.fresh);
      for (const projection of projections)
        await rebuildProjection({ store, db: fresh, projection, retireAfterMs: 0 });
      expect(await snapshotReadModels(db)).toEqual(await snapshotReadModels(fresh));
    },
  );
});
