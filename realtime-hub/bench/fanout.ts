#!/usr/bin/env node
// 1,000 Socket.IO clients watching one session: latency from the append to each delivery through the hub,
// side by side with the raw way of doing it from the same process (the same append, a NOTIFY with the
// event once it is committed, one broadcast) to as many clients in the same clients process, in
// alternating blocks; the catch-up replay rate to one client against a raw read of the same range;
// memory per idle connection, hub and raw.
import { randomUUID } from 'node:crypto';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import { openEventStore } from '@kiln/event-store/open';
import { startCommandService } from '@kiln/command-service/testing/harness';
import { mongoUrlWithDatabase } from '@kiln/query-service/testing/harness';
import { createLogger } from '@kiln/service-kit/logger';
import { serve } from '@kiln/service-kit/server';
import { saveResults } from '@kiln/stack/bench';
import { ensureStack } from '@kiln/stack/testing';
import { RealtimeHubConfig } from '#src/config.ts';
import { createRealtimeHub } from '#src/service.ts';
import { startCrowd, type Side } from './crowd.ts';
import { reportFigures } from './figures.ts';
import { listenTo, startRawBroadcast } from './rawBroadcast.ts';

const CLIENTS = Number(process.env['BENCH_CLIENTS_COUNT'] ?? 1_000);
/**
 * Measured events per side, sent 20 a second in ROUNDS blocks of 10 that alternate the three sides, so a
 * spell of a busy machine falls on each side alike. Each event is a
 * thousand deliveries, so a p99 over 200 events is not the tail of one or two unlucky ones.
 */
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200);
const ROUNDS = 20;
const WARM_UP = 10;
const EVERY_MS = 50;
const REPLAY = Number(process.env['BENCH_REPLAY_EVENTS'] ?? 20_000);
const REPLAYS = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const now = () => performance.timeOrigin + performance.now();
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
/** The JavaScript heap and the buffers outside it, after a full collection: what connections hold. */
const heldMemory = async () => {
  await sleep(1_000);
  gc();
  await sleep(200);
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
};

const urls = await ensureStack('test');
const kiln = await startCommandService();
const run = randomUUID().replaceAll('-', '').slice(0, 8);
const logger = createLogger({ service: 'realtime-hub', level: 'warn' });
const hub = await createRealtimeHub(
  RealtimeHubConfig.parse({
    EVENTSTORE_URL: urls.eventStoreUrl,
    EVENTSTORE_SCHEMA: kiln.schemas.eventStoreSchema,
    IDENTITY_SCHEMA: kiln.schemas.identitySchema,
    // No query service here (its projector would share this process): subscriptions with a position
    // never read the read models.
    MONGO_URL: mongoUrlWithDatabase(`kiln_bench_${run}`),
    REDIS_URL: urls.redisUrl,
    REDIS_PREFIX: `bench${run}`,
    // No client here is slow: the bound must not drop any of the 1,000 while the bench pushes.
    MAX_PENDING_BYTES: String(64 * 1024 * 1024),
    LOG_LEVEL: 'warn',
  }),
  logger,
);
const serving = await serve(hub.app, { port: 0, logger });
hub.attach(serving.server);

// A session with one job in it; everyone watches the session.
const owner = await kiln.signUp('bench-owner');
await kiln.grant(owner.user.accountId, 100);
const opened = await kiln.call('POST', '/v1/sessions', { cookie: owner.cookie, body: { title: 'bench' } });
const sessionId = (opened.body as { data: { sessionId: string } }).data.sessionId;
const requested = await kiln.call('POST', '/v1/jobs', {
  cookie: owner.cookie,
  headers: { 'idempotency-key': randomUUID() },
  body: {
    sessionId,
    request: {
      kind: 'image',
      modelId: 'kiln-local-image',
      prompt: 'bench',
      width: 256,
      height: 256,
      count: 1,
    },
  },
});
const jobId = (requested.body as { data: { jobId: string } }).data.jobId;
const streamId = jobStreamId(jobId);
const raw = await startRawBroadcast({
  eventStoreUrl: urls.eventStoreUrl,
  schema: `bench_raw_${run}`,
  channel: `session:${sessionId}`,
});
// When the event store's own NOTIFY of each hub-side append arrives: the hub's wake-up, timed.
const storeTold = await listenTo(urls.eventStoreUrl, `${kiln.schemas.eventStoreSchema}_appended`);

const progress = (step: string): KilnEvent => ({
  id: randomUUID(),
  type: 'JobProgressed',
  data: { jobId, step, progress: 0.5 },
  metadata: {
    correlationId: 'bench',
    causationId: null,
    actor: { kind: 'provider', id: 'local' },
    at: new Date().toISOString(),
  },
});

const head = await kiln.store.headPosition();
if (!head) throw new Error('the session has no events');
const crowd = await startCrowd();
const idleBefore = await heldMemory();
await crowd.connect({
  side: 'hub',
  url: serving.url,
  count: CLIENTS,
  cookie: owner.cookie,
  subscribe: { topic: { kind: 'session', sessionId }, after: head },
});
const rawBefore = await heldMemory();
await crowd.connect({ side: 'raw', url: raw.url, count: CLIENTS });
const rawAfter = await heldMemory();
const perConnection = { hub: (rawBefore - idleBefore) / CLIENTS, raw: (rawAfter - rawBefore) / CLIENTS };

// The hub side's writer, opened as the raw side's (and as the command service opens its own).
const writerNotifyMs = process.env['BENCH_WRITER_NOTIFY_MS'];
const writer = await openEventStore(urls.eventStoreUrl, {
  schema: kiln.schemas.eventStoreSchema,
  ...(writerNotifyMs ? { notifyEveryMs: Number(writerNotifyMs) } : {}),
});
const sides: Record<Side, { append: (event: KilnEvent) => Promise<unknown>; toldAt: number[] }> = {
  hub: { append: (event) => writer.appendToStream(streamId, [event]), toldAt: storeTold.arrivals },
  raw: { append: (event) => raw.append(streamId, event), toldAt: raw.toldAt },
  bare: { append: (event) => Promise.resolve(raw.broadcast(streamId, event, head)), toldAt: [] },
};
const sentAt: Record<Side, number[]> = { hub: [], raw: [], bare: [] };
const told: Record<Side, number[]> = { hub: [], raw: [], bare: [] };
const expected: Record<Side, number> = { hub: 0, raw: 0, bare: 0 };
let sequence = 0;
/** `count` events on one side, 20 a second, then waits until every client has had them. */
const block = async (side: Side, kind: 'warm' | 'bench', count: number) => {
  const started = now();
  const { toldAt } = sides[side];
  toldAt.length = 0;
  sentAt[side].length = 0;
  for (let index = 0; index < count; index += 1) {
    const at = now();
    sentAt[side].push(at);
    const step = side === 'bare' && kind === 'bench' ? 'bare' : kind;
    await sides[side].append(progress(`${step} ${(sequence += 1)} ${at}`));
    await sleep(started + (index + 1) * EVERY_MS - now());
  }
  expected[side] += count * CLIENTS;
  await crowd.drain(side, expected[side]);
  if (kind === 'bench') told[side].push(...sentAt[side].map((at, index) => (toldAt[index] ?? NaN) - at));
};
await block('hub', 'warm', WARM_UP);
await block('raw', 'warm', WARM_UP);
for (let round = 0; round < ROUNDS; round += 1) {
  const order: Side[] = round % 2 === 0 ? ['hub', 'raw', 'bare'] : ['bare', 'raw', 'hub'];
  for (const side of order) await block(side, 'bench', Math.ceil(MESSAGES / ROUNDS));
}
const fanOut = await crowd.report();
await crowd.stop();

// Replay: one client catching up on REPLAY events after a position, against reading them raw; in turns.
const before = (await writer.headPosition()) ?? undefined;
for (let from = 0; from < REPLAY; from += 500)
  await writer.appendToStream(
    streamId,
    Array.from({ length: Math.min(500, REPLAY - from) }, (_, index) => progress(`replay ${from + index}`)),
  );
const replayer = await startCrowd();
const replays = [];
for (let turn = 0; turn < REPLAYS; turn += 1) {
  const readStarted = performance.now();
  const read = await writer.readAll({ ...(before ? { after: before } : {}), maxCount: REPLAY });
  const readSeconds = (performance.now() - readStarted) / 1000;
  const replayed = await replayer.replay({
    url: serving.url,
    cookie: owner.cookie,
    subscribe: {
      subscriptionId: 'replay',
      topic: { kind: 'job', jobId },
      ...(before ? { after: before } : {}),
    },
    events: REPLAY,
  });
  replays.push({ read: read.length, readSeconds, ...replayed });
}
await replayer.stop();

const { rows, goalsMissed } = reportFigures({ clients: CLIENTS, fanOut, told, perConnection, replays });
await saveResults('realtime-hub', rows);

await storeTold.close();
await writer.close();
await raw.close();
hub.drain();
await serving.close();
await hub.close();
await kiln.stop();
if (goalsMissed) {
  console.error('realtime hub bench: a goal was missed');
  process.exitCode = 1;
}
process.exit();
