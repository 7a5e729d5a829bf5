import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { MongoClient } from 'mongodb';
import { mongoUrlWithDatabase } from '@kiln/query-service/testing/harness';
import { testEnv } from '@kiln/stack/testing';
import {
  appendProgress,
  redisPrefixForTest,
  startHubProcess,
  type HubProcess,
} from '#src/testing/harness.ts';
import { rawSocketReader } from '#src/testing/rawReaders.ts';

let kiln: CommandServiceUnderTest;
/** No query service here (its projectors would fail too while the table is away): read models of no one. */
const readModels = `kiln_test_feed_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
let hub: HubProcess;
let admin: pg.Client;
/** The hub's event store connections carry this name, so the test can cut exactly those. */
const applicationName = `hub_feed_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  kiln = await startCommandService();
  const eventStoreUrl = new URL(testEnv().eventStoreUrl);
  eventStoreUrl.searchParams.set('application_name', applicationName);
  hub = await startHubProcess({
    ...kiln.schemas,
    mongoUrl: mongoUrlWithDatabase(readModels),
    redisPrefix: redisPrefixForTest(),
    env: { EVENTSTORE_URL: eventStoreUrl.toString(), DATABASE_URL: testEnv().eventStoreUrl },
  });
  admin = new pg.Client({ connectionString: testEnv().eventStoreUrl });
  await admin.connect();
});

afterAll(async () => {
  await admin.end();
  await hub.kill();
  await kiln.stop();
  const mongo = await new MongoClient(testEnv().mongoUrl).connect();
  await mongo.db(readModels).dropDatabase();
  await mongo.close();
});

const until = async (what: string, done: () => boolean | Promise<boolean>, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const feedRestarts = async (reason: string) => {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  const line = new RegExp(
    `^kiln_hub_live_feed_restarts_total\\{[^}]*reason="${reason}"[^}]*\\} (\\S+)$`,
    'm',
  ).exec(text);
  return Number(line?.[1] ?? 0);
};

describe('the live feed of a hub', () => {
  it(
    'keeps live events flowing to a connected client when its database connection is cut, and after an error',
    { timeout: 90_000 },
    async () => {
      const { cookie, user } = await kiln.signUp();
      await kiln.grant(user.accountId, 10);
      const created = await kiln.call('POST', '/v1/jobs', {
        cookie,
        headers: { 'idempotency-key': randomUUID() },
        body: {
          request: {
            kind: 'image',
            modelId: 'kiln-local-image',
            prompt: 'feed',
            width: 256,
            height: 256,
            count: 1,
          },
        },
      });
      const { jobId, position } = created.body.data as { jobId: string; position: string };
      const reader = rawSocketReader({
        urls: [hub.url],
        cookie,
        topic: { kind: 'job', jobId },
        after: position,
      });
      try {
        await until('the subscription', () => reader.acks.some((ack) => ack.ok));
        await appendProgress(kiln.store, jobId, 3, 0);
        await until('3 live events', () => reader.arrivals.length === 3);

        // Every connection of the hub's event store is cut at once.
        const cut = await admin.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
          [applicationName],
        );
        expect(cut.rowCount).toBeGreaterThan(0);
        await appendProgress(kiln.store, jobId, 3, 0);
        await until('3 more after the cut', () => reader.arrivals.length === 6);

        // The feed's reads fail with an error no retry helps (the table is gone); then it comes back.
        await admin.query(`alter table ${kiln.schemas.eventStoreSchema}.events rename to events_away`);
        try {
          await until('the feed to fail and subscribe again', async () => (await feedRestarts('error')) >= 1);
        } finally {
          await admin.query(`alter table ${kiln.schemas.eventStoreSchema}.events_away rename to events`);
        }
        await appendProgress(kiln.store, jobId, 3, 0);
        await until('3 more after the error', () => reader.arrivals.length >= 9);

        const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter(
          (event) => event.position > position,
        );
        expect(reader.events().map((event) => event.id)).toEqual(stored.map((event) => event.id));
        // The same connection and subscription all along: the client never had to resync.
        expect(reader.acks).toHaveLength(1);
        expect(reader.resyncs).toEqual([]);
      } finally {
        reader.close();
      }
    },
  );
});
