import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import {
  mongoUrlWithDatabase,
  startQueryService,
  type QueryServiceUnderTest,
} from '@kiln/query-service/testing/harness';
import { keepAppending, redisPrefixForTest, startHubProcess, type HubProcess } from '#src/testing/harness.ts';
import { rawSocketReader, rawSseReader, type Arrival } from '#src/testing/rawReaders.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
let hubA: HubProcess;
let hubB: HubProcess;
const readers: Array<{ close: () => unknown }> = [];

beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas);
  const redisPrefix = redisPrefixForTest();
  const hub = () =>
    startHubProcess({ ...kiln.schemas, mongoUrl: mongoUrlWithDatabase(query.database), redisPrefix });
  [hubA, hubB] = await Promise.all([hub(), hub()]);
});

afterEach(async () => {
  await Promise.all(readers.splice(0).map((reader) => reader.close()));
  await Promise.all([hubA.ensureRunning(), hubB.ensureRunning()]);
});

afterAll(async () => {
  await Promise.all([hubA.kill(), hubB.kill()]);
  await query.stop();
  await kiln.stop();
});

const until = async (what: string, done: () => boolean, timeoutMs = 30_000, seen = () => '') => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${seen()}`.trim());
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const newJob = async () => {
  const { cookie, user } = await kiln.signUp();
  await kiln.grant(user.accountId, 20);
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'kiln-local-image',
        prompt: 'raw',
        width: 256,
        height: 256,
        count: 1,
      },
    },
  });
  expect(answer.status).toBe(202);
  return { cookie, jobId: answer.body.data.jobId as string, position: answer.body.data.position as string };
};

const hubAt = (url: string) => (url === hubA.url ? hubA : hubB);

type Reader = { arrivals: Arrival[]; url: () => string; reconnect: () => void };

/**
 * The fault sequence both transports go through while a provider keeps appending: three drops at random
 * moments, a graceful restart of the reader's hub, then kill -9 of the hub it is on, with appends going
 * on after the death. Then every event the reader received, as received, is compared with the stream.
 */
const throughFaults = async (reader: Reader, isLive: () => boolean, jobId: string, after: string) => {
  const appends = keepAppending(kiln.store, jobId, 20);
  const onNow = () => reader.arrivals.at(-1)?.url === reader.url();
  const liveAgain = async (after: string) => {
    const received = reader.arrivals.length;
    await until(
      `the reader to be live after ${after}`,
      () => isLive() && onNow() && reader.arrivals.length > received + 3,
    );
  };
  for (let drop = 0; drop < 3; drop += 1) {
    await appends.more(5 + Math.floor(Math.random() * 15));
    reader.reconnect();
  }
  await liveAgain('its drops');
  const restarted = hubAt(reader.url());
  await restarted.stop();
  await restarted.start();
  await liveAgain('the restart');

  const dying = hubAt(reader.url());
  const survivor = dying === hubA ? hubB : hubA;
  await dying.kill();
  const appendedAtDeath = appends.appended();
  await appends.more(30);
  const total = await appends.stop();

  const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter((event) => event.position > after);
  expect(stored).toHaveLength(total);
  await until(
    'the last event',
    () => reader.arrivals.some((arrival) => arrival.event.id === stored.at(-1)?.id),
    30_000,
    () => `(received ${reader.arrivals.length} of ${total}, on ${reader.url()})`,
  );
  // Every event received, duplicates included, against the stream: once each, in order.
  expect(reader.arrivals.map((arrival) => arrival.event.id)).toEqual(stored.map((event) => event.id));
  // Appends went on while the hub died: those after its death came from the other one.
  expect(total - appendedAtDeath).toBeGreaterThanOrEqual(30);
  const afterDeath = reader.arrivals.slice(appendedAtDeath + 1);
  expect(afterDeath.length).toBeGreaterThanOrEqual(29);
  expect(new Set(afterDeath.map((arrival) => arrival.url))).toEqual(new Set([survivor.url]));
  expect(reader.arrivals.some((arrival) => arrival.url === dying.url)).toBe(true);
};

describe('exactly once, as a reader that deduplicates nothing sees it', () => {
  it(
    'over WebSocket: across its own drops, a restart of its hub and kill -9 of the hub it is on',
    { timeout: 120_000 },
    async () => {
      const { cookie, jobId, position } = await newJob();
      const reader = rawSocketReader({
        urls: [hubA.url, hubB.url],
        cookie,
        topic: { kind: 'job', jobId },
        after: position,
      });
      readers.push(reader);
      await until('the subscription', () => reader.acks.some((ack) => ack.ok));
      await throughFaults(reader, reader.connected, jobId, position);
      expect(reader.resyncs.map((resync) => resync.reason)).toContain('the hub is restarting');
    },
  );

  it(
    'over Server-Sent Events with Last-Event-ID: the same faults, the same guarantee',
    { timeout: 120_000 },
    async () => {
      const { cookie, jobId, position } = await newJob();
      const reader = rawSseReader({
        urls: [hubA.url, hubB.url],
        cookie,
        query: `topic=job&id=${jobId}`,
        after: position,
      });
      readers.push(reader);
      await until('the stream', reader.live);
      await throughFaults(reader, reader.live, jobId, position);
      expect(reader.resyncs.map((resync) => resync.reason)).toContain('the hub is restarting');
    },
  );
});
