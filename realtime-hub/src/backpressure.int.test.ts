import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { get, type IncomingMessage } from 'node:http';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent, ResyncMessage } from '@kiln/contracts/realtime';
import { jobStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import {
  mongoUrlWithDatabase,
  startQueryService,
  type QueryServiceUnderTest,
} from '@kiln/query-service/testing/harness';
import { redisPrefixForTest, startHubProcess, type HubProcess } from '#src/testing/harness.ts';
import { framesIn, rawSocketReader, rawSseReader } from '#src/testing/rawReaders.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
let hub: HubProcess;
const MAX_PENDING_BYTES = 100_000;
const TOO_SLOW = 'the client fell too far behind';

beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas);
  hub = await startHubProcess({
    ...kiln.schemas,
    mongoUrl: mongoUrlWithDatabase(query.database),
    redisPrefix: redisPrefixForTest(),
    // A catch-up waits at most twice the heartbeat for a client to make room.
    env: { MAX_PENDING_BYTES: String(MAX_PENDING_BYTES), HEARTBEAT_SECONDS: '1' },
  });
});

afterAll(async () => {
  await hub.kill();
  await query.stop();
  await kiln.stop();
});

const metric = async (name: string) => {
  const text = await (await fetch(`${hub.url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
};
const until = async (what: string, done: () => boolean | Promise<boolean>, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

const newJob = async () => {
  const { cookie, user } = await kiln.signUp();
  await kiln.grant(user.accountId, 10);
  const created = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'kiln-local-image',
        prompt: 'slow',
        width: 256,
        height: 256,
        count: 1,
      },
    },
  });
  return { cookie, ...(created.body.data as { jobId: string; position: string }) };
};

/** 500 progress events of about 1 KB each, in one append. */
const appendBatch = (jobId: string, label: string) =>
  kiln.store.appendToStream(
    jobStreamId(jobId),
    Array.from({ length: 500 }, (_, index) => ({
      id: randomUUID(),
      type: 'JobProgressed' as const,
      data: { jobId, step: `${label} ${index}`, progress: 0.5, log: 'x'.repeat(1_000) },
      metadata: {
        correlationId: 'slow-client',
        causationId: null,
        actor: { kind: 'provider' as const, id: 'local' },
        at: new Date().toISOString(),
      },
    })),
  );

const storedAfter = async (jobId: string, position: string) =>
  (await kiln.store.readStream(jobStreamId(jobId))).filter((event) => event.position > position);

/** A Socket.IO client whose TCP socket can stop reading; once it reads again it records what came. */
const socketThatStops = async (cookie: string) => {
  const socket = io(hub.url, { transports: ['websocket'], extraHeaders: { cookie }, reconnection: false });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const received: DeliveredEvent[] = [];
  const resyncs: ResyncMessage[] = [];
  socket.on('events', (message: { events: DeliveredEvent[] }) => received.push(...message.events));
  socket.on('event', (message: { event: DeliveredEvent }) => received.push(message.event));
  socket.on('resync', (message: ResyncMessage) => resyncs.push(message));
  const tcp = (
    socket.io.engine.transport as unknown as { ws: { _socket: { pause(): void; resume(): void } } }
  ).ws._socket;
  return { socket, received, resyncs, stopReading: () => tcp.pause(), readAgain: () => tcp.resume() };
};

/** An SSE stream whose reader stops reading (the socket pauses once Node's buffer is full). */
const streamThatStops = async (cookie: string, jobId: string, after: string) => {
  const response = await new Promise<IncomingMessage>((resolve, reject) =>
    get(
      `${hub.url}/v1/stream?topic=job&id=${jobId}`,
      { headers: { cookie, 'last-event-id': after } },
      resolve,
    ).on('error', reject),
  );
  expect(response.statusCode).toBe(200);
  response.pause();
  return {
    /** Reads everything to the end of the stream: its events and its resync. */
    readToTheEnd: async () => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.resume();
      await once(response, 'end');
      const { frames } = framesIn(text);
      return {
        received: frames
          .filter((frame) => frame.event === 'event')
          .map((frame) => JSON.parse(frame.data) as DeliveredEvent),
        resyncs: frames
          .filter((frame) => frame.event === 'resync')
          .map((frame) => JSON.parse(frame.data) as ResyncMessage),
      };
    },
  };
};

/**
 * What a dropped client got, read once it reads again: a prefix of the stream with nothing missing or
 * repeated, then one resync whose position is the last event it got; and from that position a reader
 * gets all the rest.
 */
const droppedCleanly = async (
  got: { received: DeliveredEvent[]; resyncs: ResyncMessage[] },
  cookie: string,
  jobId: string,
  after: string,
  resume: 'websocket' | 'sse',
) => {
  const stored = await storedAfter(jobId, after);
  expect(got.resyncs).toHaveLength(1);
  const [resync] = got.resyncs;
  expect(resync).toMatchObject({ reason: TOO_SLOW });
  expect(got.received.length).toBeGreaterThan(0);
  expect(got.received.length).toBeLessThan(stored.length);
  expect(resync?.position).toBe(got.received.at(-1)?.position);
  expect(got.received.map((event) => event.id)).toEqual(
    stored.slice(0, got.received.length).map((event) => event.id),
  );

  const rest = stored.slice(got.received.length);
  const reader =
    resume === 'websocket'
      ? rawSocketReader({ urls: [hub.url], cookie, topic: { kind: 'job', jobId }, after: resync!.position! })
      : rawSseReader({ urls: [hub.url], cookie, query: `topic=job&id=${jobId}`, after: resync!.position! });
  try {
    await until('the rest', () => reader.arrivals.length >= rest.length);
    expect(reader.events().map((event) => event.id)).toEqual(rest.map((event) => event.id));
    expect(reader.resyncs).toEqual([]);
  } finally {
    await reader.close();
  }
};

describe('a client that stops reading live events', () => {
  it(
    'over Socket.IO is told to resync from its last event and dropped, the hub’s memory bounded',
    { timeout: 120_000 },
    async () => {
      const { cookie, jobId, position } = await newJob();
      const client = await socketThatStops(cookie);
      const ack = await client.socket.emitWithAck('subscribe', {
        subscriptionId: 'slow',
        topic: { kind: 'job', jobId },
        after: position,
      });
      expect(ack).toMatchObject({ ok: true });
      client.stopReading();
      const resyncsBefore = await metric('kiln_hub_resyncs_total');
      const rssBefore = await metric('process_resident_memory_bytes');
      for (
        let batch = 0;
        batch < 40 && (await metric('kiln_hub_resyncs_total')) === resyncsBefore;
        batch += 1
      )
        await appendBatch(jobId, `live ${batch}`);
      await until('the resync', async () => (await metric('kiln_hub_resyncs_total')) > resyncsBefore);
      await until('the drop', async () => (await metric('kiln_hub_connections')) === 0);
      expect((await metric('process_resident_memory_bytes')) - rssBefore).toBeLessThan(100 * 1024 * 1024);

      client.readAgain();
      await until('the resync message', () => client.resyncs.length > 0);
      expect(client.resyncs[0]?.subscriptionId).toBe('slow');
      await droppedCleanly(client, cookie, jobId, position, 'websocket');
      client.socket.close();
    },
  );

  it(
    'over SSE gets a resync event with its last position, and its stream ends',
    { timeout: 120_000 },
    async () => {
      const { cookie, jobId, position } = await newJob();
      const stream = await streamThatStops(cookie, jobId, position);
      await until('the stream', async () => (await metric('kiln_hub_sse_streams')) === 1);
      const resyncsBefore = await metric('kiln_hub_resyncs_total');
      for (
        let batch = 0;
        batch < 40 && (await metric('kiln_hub_resyncs_total')) === resyncsBefore;
        batch += 1
      )
        await appendBatch(jobId, `live ${batch}`);
      await until('the resync', async () => (await metric('kiln_hub_resyncs_total')) > resyncsBefore);
      await until('the stream to end', async () => (await metric('kiln_hub_sse_streams')) === 0);

      await droppedCleanly(await stream.readToTheEnd(), cookie, jobId, position, 'sse');
    },
  );
});

describe('a client that stops reading during its catch-up', () => {
  let job: Awaited<ReturnType<typeof newJob>>;
  beforeAll(async () => {
    job = await newJob();
    // About 12 MB behind: more than the kernel's socket buffers, far more than the bound.
    for (let batch = 0; batch < 24; batch += 1) await appendBatch(job.jobId, `stored ${batch}`);
  }, 120_000);

  it(
    'over Socket.IO is told to resync and dropped, though its catch-up is a handful of messages',
    { timeout: 120_000 },
    async () => {
      const client = await socketThatStops(job.cookie);
      client.stopReading();
      const resyncsBefore = await metric('kiln_hub_resyncs_total');
      client.socket.emit('subscribe', {
        subscriptionId: 'behind',
        topic: { kind: 'job', jobId: job.jobId },
        after: job.position,
      });
      await until('the resync', async () => (await metric('kiln_hub_resyncs_total')) > resyncsBefore);
      await until('the drop', async () => (await metric('kiln_hub_connections')) === 0);

      client.readAgain();
      await until('the resync message', () => client.resyncs.length > 0);
      expect(client.resyncs[0]?.subscriptionId).toBe('behind');
      await droppedCleanly(client, job.cookie, job.jobId, job.position, 'websocket');
      client.socket.close();
    },
  );

  it('over SSE is told to resync and its stream ends', { timeout: 120_000 }, async () => {
    const resyncsBefore = await metric('kiln_hub_resyncs_total');
    const stream = await streamThatStops(job.cookie, job.jobId, job.position);
    await until('the resync', async () => (await metric('kiln_hub_resyncs_total')) > resyncsBefore);
    await until('the stream to end', async () => (await metric('kiln_hub_sse_streams')) === 0);

    await droppedCleanly(await stream.readToTheEnd(), job.cookie, job.jobId, job.position, 'sse');
  });
});
