import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import type { KilnEvent } from '@kiln/contracts/events';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import { testEnv } from '@kiln/stack/testing';
import { loadState } from '#src/readModels/projectionState.ts';
import { mongoUrlWithDatabase, startQueryService, type QueryServiceUnderTest } from '#src/testing/harness.ts';
import { appendHistory, generateHistory } from '#src/testing/history.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas);
});
afterAll(async () => {
  await query.stop();
  await kiln.stop();
});

const rebuildCommand = (args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(process.execPath, ['src/rebuild/main.ts', ...args], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: {
        ...process.env,
        EVENTSTORE_URL: testEnv().eventStoreUrl,
        EVENTSTORE_SCHEMA: kiln.schemas.eventStoreSchema,
        MONGO_URL: mongoUrlWithDatabase(query.database),
        ...env,
      },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });

const requestJob = async (cookie: string) => {
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'kiln-local-image',
        prompt: 'rebuilt',
        width: 256,
        height: 256,
        count: 1,
      },
    },
  });
  expect(answer.status).toBe(202);
  return answer.body.data as { jobId: string; position: string };
};

describe('npm run rebuild', () => {
  it(
    'rebuilds into new collections with a progress bar while the old ones serve, then swaps them in',
    { timeout: 120_000 },
    async () => {
      const { cookie, user } = await kiln.signUp();
      await kiln.grant(user.accountId, 100);
      let last = { jobId: '', position: '' };
      for (let index = 0; index < 4; index += 1) last = await requestJob(cookie);
      const before = await query.get(`/v1/jobs?after=${last.position}`, cookie);
      expect(before.body.data.items).toHaveLength(4);

      const rebuilding = rebuildCommand(['jobs']);
      // Reads go on answering, the same, during the rebuild and its swap.
      let reads = 0;
      let finished = false;
      void rebuilding.then(() => (finished = true));
      while (!finished) {
        const during = await query.get('/v1/jobs', cookie);
        expect(during.status).toBe(200);
        expect(during.body.data.items).toEqual(before.body.data.items);
        reads += 1;
      }
      const { code, output } = await rebuilding;
      expect(code, output).toBe(0);
      expect(output).toMatch(/^jobs +\[.*\] \d+\/\d+ events \| \d+ events\/s/m);
      expect(output).toMatch(/jobs: generation 2 swapped in after \d+ events/);
      expect(reads).toBeGreaterThan(1);

      const db = query.service.readModels.db;
      const state = await loadState(db, 'jobs');
      expect(state).toMatchObject({
        generation: 2,
        collections: { jobs: 'jobs_g2', artifacts: 'artifacts_g2' },
      });
      expect(state?.rebuilding).toBeUndefined();
      const names = (await db.listCollections().toArray()).map((collection) => collection.name);
      expect(names).toContain('jobs_g2');
      expect(names).not.toContain('jobs_g1');

      expect((await query.get('/v1/jobs', cookie)).body.data.items).toEqual(before.body.data.items);
      // The live projector follows the swap: a job requested now shows up in the new generation.
      const after = await requestJob(cookie);
      const now = await query.get(`/v1/jobs?after=${after.position}`, cookie);
      expect(now.body.data.items.map((item: { jobId: string }) => item.jobId)).toContain(after.jobId);
      expect(await db.collection('jobs_g2').countDocuments({ userId: user.id })).toBe(5);
    },
  );

  it(
    'prints a line of events done / total and events/s every so often when not on a terminal',
    { timeout: 120_000 },
    async () => {
      const schema = `es_qprogress_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
      const store = await createPostgresEventStore<KilnEvent>({
        connectionString: testEnv().eventStoreUrl,
        schema,
      });
      const database = `kiln_qprogress_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
      try {
        await appendHistory(
          store,
          generateHistory({ accounts: 10, jobsPerAccount: 20, sessions: 2, seed: 3 }),
        );
        const total = await store.countAll();
        const { code, output } = await rebuildCommand(
          ['ledger', '--batch-size', '10', '--progress-every', '10'],
          { EVENTSTORE_SCHEMA: schema, MONGO_URL: mongoUrlWithDatabase(database) },
        );
        expect(code, output).toBe(0);
        const lines = [...output.matchAll(/^ledger +\[.*\] (\d+)\/(\d+) events \| (\d+) events\/s/gm)].map(
          ([, done, of, rate]) => ({ done: Number(done), of: Number(of), rate: Number(rate) }),
        );
        // While it runs, not only once it is done: lines part way, with their speed.
        const partWay = lines.filter((line) => line.done > 0 && line.done < total);
        expect(partWay.length, output).toBeGreaterThan(0);
        expect(partWay.every((line) => line.of === total && line.rate > 0)).toBe(true);
        expect(lines.map((line) => line.done)).toEqual(lines.map((line) => line.done).sort((a, b) => a - b));
        expect(lines.at(-1)).toMatchObject({ done: total, of: total });
        expect(output).toMatch(new RegExp(`ledger: generation 2 swapped in after ${total} events`));
      } finally {
        await store.close();
        const mongo = await new MongoClient(testEnv().mongoUrl).connect();
        await mongo.db(database).dropDatabase();
        await mongo.close();
        const admin = new pg.Client({ connectionString: testEnv().eventStoreUrl });
        await admin.connect();
        await admin.query(`drop schema if exists ${schema} cascade`);
        await admin.end();
      }
    },
  );

  it('says which projections there are when asked for one that is not, and what its options take', async () => {
    const { code, output } = await rebuildCommand(['nonsense']);
    expect(code).toBe(2);
    expect(output).toContain('there is no projection named nonsense');
    expect(output).toContain('jobs|sessions|ledger|provider-health|all');
    const badOption = await rebuildCommand(['jobs', '--batch-size', 'lots']);
    expect(badOption.code).toBe(2);
    expect(badOption.output).toContain('--batch-size is a whole number');
  });
});
