import { spawn, type ChildProcess } from 'node:child_process';
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
import { DocumentBuffer } from '#src/projector/documentBuffer.ts';
import { foldEvents } from '#src/projector/foldEvents.ts';
import { projectionLag } from '#src/projector/projectors.ts';
import { ensureState, loadStates, saveCheckpoint } from '#src/readModels/projectionState.ts';
import { rebuildProjection } from '#src/rebuild/rebuild.ts';
import { mongoUrlWithDatabase } from '#src/testing/harness.ts';
import { appendHistory, generateHistory } from '#src/testing/history.ts';
import { snapshotReadModels } from '#src/testing/snapshot.ts';

const urls = testEnv();
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const eventStoreSchema = `es_qfault_${run}`;
const identitySchema = `id_qfault_${run}`;
const databases: string[] = [];
let store: EventStore<KilnEvent>;
let mongo: MongoClient;

const freshDb = (label: string): Db => {
  const name = `kiln_qf_${label}_${run}`;
  databases.push(name);
  return mongo.db(name);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A from-zero rebuild of every projection into a database of its own: what the read models must equal. */
const rebuiltFromZero = async (label: string) => {
  const db = freshDb(label);
  const total = await store.countAll();
  for (const projection of projections) {
    const progress: number[] = [];
    await rebuildProjection({
      store,
      db,
      projection,
      retireAfterMs: 0,
      batchSize: 500,
      onProgress: ({ done, total: reported }) => {
        expect(reported).toBe(total);
        progress.push(done);
      },
    });
    // The progress bar's figures: from zero to every event, never backwards.
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(total);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  }
  return snapshotReadModels(db);
};

/** Folds all of `$all` with the engine in this process, in batches, checkpointing like the live projector. */
const projectInProcess = async (db: Db, batchSize: number) => {
  for (const projection of projections) {
    const state = await ensureState(db, projection);
    const buffer = new DocumentBuffer(db, projection, state.collections);
    let position = state.position;
    for (;;) {
      const events = await store.readAll({ ...(position ? { after: position } : {}), maxCount: batchSize });
      const last = events.at(-1);
      if (!last) break;
      await foldEvents(projection, buffer, events);
      await buffer.flush();
      await saveCheckpoint(db, projection.name, state.generation, last.position);
      position = last.position;
    }
  }
};

beforeAll(async () => {
  store = await createPostgresEventStore<KilnEvent>({
    connectionString: urls.eventStoreUrl,
    schema: eventStoreSchema,
  });
  mongo = await new MongoClient(urls.mongoUrl).connect();
  await appendHistory(store, generateHistory({ accounts: 12, jobsPerAccount: 25, sessions: 4, seed: 7 }));
});

afterAll(async () => {
  for (const database of databases) await mongo.db(database).dropDatabase();
  await mongo.close();
  await store.close();
  const admin = new pg.Client({ connectionString: urls.eventStoreUrl });
  await admin.connect();
  for (const schema of [eventStoreSchema, identitySchema])
    await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

describe('projectors under faults', () => {
  it(
    'killed with -9 at random points and restarted, they end with the read models of a rebuild from zero',
    { timeout: 240_000 },
    async () => {
      const database = `kiln_qf_killed_${run}`;
      databases.push(database);
      const db = mongo.db(database);
      const env = {
        ...process.env,
        PORT: '0',
        EVENTSTORE_URL: urls.eventStoreUrl,
        EVENTSTORE_SCHEMA: eventStoreSchema,
        IDENTITY_SCHEMA: identitySchema,
        MONGO_URL: mongoUrlWithDatabase(database),
        // Small batches: many writes and checkpoints for a kill to fall between.
        PROJECTOR_BATCH_SIZE: '13',
        LOG_LEVEL: 'fatal',
      };
      const start = () =>
        spawn(process.execPath, ['src/main.ts'], {
          cwd: join(import.meta.dirname, '..', '..'),
          env,
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      const killed = (child: ChildProcess) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        });
      const caughtUp = async () => (await projectionLag(store, db)).every((lag) => lag.caughtUp);

      // Where each projection's checkpoint is (null before its first).
      const checkpoints = async () => {
        const states = await loadStates(db);
        return new Map(
          projections.map(({ name }) => [name, states.find((state) => state._id === name)?.position ?? null]),
        );
      };
      const head = await store.headPosition();
      if (!head) throw new Error('no history to project');

      let kills = 0;
      // Kills that fell while the process was projecting: a checkpoint had moved in its life and had not
      // reached the head of $all when it died.
      const midway: Array<Record<string, string | null>> = [];
      for (let round = 0; round < 8; round += 1) {
        const before = await checkpoints();
        const child = start();
        // Until the process is projecting: a checkpoint moves (its start-up takes a varying while).
        const projectingBy = Date.now() + 60_000;
        const moved = async () => {
          const now = await checkpoints();
          return projections.some(({ name }) => now.get(name) !== before.get(name));
        };
        while (!(await moved()) && Date.now() < projectingBy) await sleep(10);
        // Then a random point of its work, short beside the whole of it (several seconds on two cores).
        await sleep(Math.floor(Math.random() * 800));
        await killed(child);
        kills += 1;
        const after = await checkpoints();
        const diedProjecting = projections.some(({ name }) => {
          const position = after.get(name) ?? null;
          return position !== before.get(name) && position !== null && position < head;
        });
        if (diedProjecting) midway.push(Object.fromEntries(after));
        if (await caughtUp()) break;
      }
      const last = start();
      const deadline = Date.now() + 180_000;
      while (!(await caughtUp()) && Date.now() < deadline) await sleep(200);
      await killed(last);

      expect(kills).toBeGreaterThan(1);
      // Every kill but perhaps the last (the one after which all had caught up) fell mid-way: the restarts
      // resumed from checkpoints left part way through $all, not from zero or from the end.
      expect(midway.length, JSON.stringify(midway)).toBeGreaterThanOrEqual(Math.max(2, kills - 1));
      expect(await caughtUp()).toBe(true);
      expect(await snapshotReadModels(db)).toEqual(await rebuiltFromZero('rebuilt-for-kill'));
    },
  );

  it('changes nothing when the same events are delivered again, from any earlier point', async () => {
    const db = freshDb('twice');
    await projectInProcess(db, 100);
    const once = await snapshotReadModels(db);
    expect(once['jobs']?.length).toBe(12 * 25);

    const all = await store.readAll({ maxCount: 100_000 });
    for (const projection of projections) {
      const state = await ensureState(db, projection);
      // A fresh buffer, as after a restart: the documents tell what they have seen, not the memory.
      const buffer = new DocumentBuffer(db, projection, state.collections);
      for (const from of [0, Math.floor(all.length / 2), all.length - 7]) {
        const again = all.slice(from);
        expect(await foldEvents(projection, buffer, again)).toBe(0);
        await buffer.flush();
      }
      const twiceInOneBatch = all.slice(-20);
      expect(await foldEvents(projection, buffer, [...twiceInOneBatch, ...twiceInOneBatch])).toBe(0);
      await buffer.flush();
    }
    expect(await snapshotReadModels(db)).toEqual(once);
  });

  it('replays a write that was cut before its checkpoint without counting it twice', async () => {
    const db = freshDb('cut');
    const all = await store.readAll({ maxCount: 100_000 });
    const cut = Math.floor(all.length * 0.6);
    for (const projection of projections) {
      const state = await ensureState(db, projection);
      // Up to the cut: written and checkpointed.
      const buffer = new DocumentBuffer(db, projection, state.collections);
      await foldEvents(projection, buffer, all.slice(0, cut));
      await buffer.flush();
      await saveCheckpoint(db, projection.name, state.generation, all[cut - 1]!.position);
      // The next batch is written, then the process dies before the checkpoint moves.
      await foldEvents(projection, buffer, all.slice(cut, cut + 150));
      await buffer.flush();
      // Restarted: a new buffer, from the checkpoint, over the same batch again and on to the end.
      const restarted = new DocumentBuffer(db, projection, state.collections);
      await foldEvents(projection, restarted, all.slice(cut));
      await restarted.flush();
      await saveCheckpoint(db, projection.name, state.generation, all.at(-1)!.position);
    }
    expect(await snapshotReadModels(db)).toEqual(await rebuiltFromZero('rebuilt-for-cut'));
  });
});
