import { randomUUID } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import { subscribe, type Refusal, type RealtimeSubscription, type Status } from '#src/client.ts';

const listen = async (http: HttpServer) => {
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
};

/**
 * A real Socket.IO server standing in for a hub whose answers are slow, missing or failing:
 * `handshakeDelayMs` holds each new connection before it is accepted, `unansweredSubscriptions` leaves
 * that many subscriptions without an ack, then `failedSubscriptions` acks that many with `internal`.
 */
const startSlowHub = async (options: {
  handshakeDelayMs?: number;
  unansweredSubscriptions?: number;
  failedSubscriptions?: number;
}) => {
  const http = createServer();
  let connections = 0;
  let subscriptions = 0;
  const hub = new Server(http, {
    allowRequest: (_request, accept) => {
      connections += 1;
      setTimeout(() => accept(null, true), options.handshakeDelayMs ?? 0);
    },
  });
  hub.on('connection', (socket) => {
    socket.on('subscribe', (payload: { subscriptionId: string }, ack: (answer: unknown) => void) => {
      subscriptions += 1;
      const unanswered = options.unansweredSubscriptions ?? 0;
      if (subscriptions <= unanswered) return;
      if (subscriptions <= unanswered + (options.failedSubscriptions ?? 0))
        return ack({ ok: false, error: { code: 'internal', message: 'the subscription failed; try again' } });
      ack({ ok: true, subscriptionId: payload.subscriptionId, channel: 'job:j_1' });
    });
  });
  return {
    url: await listen(http),
    connections: () => connections,
    subscriptions: () => subscriptions,
    close: () => new Promise<void>((resolve) => void hub.close(() => resolve())),
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (what: string, done: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
};

const open: RealtimeSubscription[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const subscription of open.splice(0)) subscription.close();
  for (const close of closers.splice(0)) await close();
});

const watch = (
  url: string | string[],
  extra: { subscribeTimeoutMs?: number; onRefused?: (refusal: Refusal) => void } = {},
) => {
  const statuses: Status[] = [];
  const subscription = subscribe({
    url,
    topic: { kind: 'job', jobId: 'j_1' },
    after: '0000000000000000-0000000000000000',
    transports: ['websocket'],
    onEvent: () => {},
    onStatus: (status) => statuses.push(status),
    ...extra,
  });
  open.push(subscription);
  return { subscription, statuses };
};

describe('the realtime client over WebSocket', () => {
  it('goes live again when a reconnect is asked for while the connection is still being made', async () => {
    const hub = await startSlowHub({ handshakeDelayMs: 300 });
    closers.push(hub.close);
    const { subscription, statuses } = watch(hub.url);
    await until('live', () => statuses.includes('live'));
    subscription.reconnect();
    await until('the second connection to start', () => hub.connections() === 2);
    subscription.reconnect(); // mid-handshake: the socket has not connected yet
    await until('live again', () => statuses.filter((status) => status === 'live').length === 2);
    expect(hub.connections()).toBe(3);
    expect(statuses).toEqual([
      'connecting',
      'live',
      'reconnecting',
      'connecting',
      'reconnecting',
      'connecting',
      'live',
    ]);
  });

  it('tries again when the hub never answers its subscription', async () => {
    const hub = await startSlowHub({ unansweredSubscriptions: 1 });
    closers.push(hub.close);
    const { statuses } = watch(hub.url, { subscribeTimeoutMs: 300 });
    await until('live', () => statuses.includes('live'));
    expect(hub.subscriptions()).toBe(2);
    expect(statuses).toEqual(['connecting', 'reconnecting', 'connecting', 'live']);
  });

  it('tries again, on the next hub, when the hub fails to open its subscription', async () => {
    const failing = await startSlowHub({ failedSubscriptions: 1 });
    const healthy = await startSlowHub({});
    closers.push(failing.close, healthy.close);
    const refusals: Refusal[] = [];
    const { subscription, statuses } = watch([failing.url, healthy.url], {
      onRefused: (refusal) => refusals.push(refusal),
    });
    await until('live', () => statuses.includes('live'));
    expect(refusals).toEqual([]);
    expect(subscription.url()).toBe(healthy.url);
    expect(statuses).toEqual(['connecting', 'reconnecting', 'connecting', 'live']);
  });
});

const after = '0000000000000000-0000000000000001';
const position = '0000000000000000-0000000000000002';
const deliveredEvent: DeliveredEvent = {
  id: randomUUID(),
  type: 'JobProgressed',
  data: { jobId: 'j_1', step: 'step 0', progress: 0 },
  metadata: {
    correlationId: 'client-test',
    causationId: null,
    actor: { kind: 'provider', id: 'local' },
    at: new Date().toISOString(),
  },
  streamId: 'job-j_1',
  revision: 1,
  position,
  recordedAt: new Date().toISOString(),
};

/**
 * An HTTP server standing in for a hub's SSE endpoint, or a proxy in front of it: it answers the first
 * request with `firstAnswer`, then streams one event (and keeps the stream open).
 */
const startStreamHub = async (firstAnswer: { status: number; headers?: Record<string, string> }) => {
  let requests = 0;
  const http = createServer((_request, response) => {
    requests += 1;
    if (requests === 1) return void response.writeHead(firstAnswer.status, firstAnswer.headers).end('no');
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`event: resumed\ndata: ${JSON.stringify({ mode: 'replay', after, events: 1 })}\n\n`);
    response.write(`id: ${position}\nevent: event\ndata: ${JSON.stringify(deliveredEvent)}\n\n`);
  });
  const url = await listen(http);
  return {
    url,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => (http.closeAllConnections(), http.close(() => resolve()))),
  };
};

const watchStream = (url: string) => {
  const received: DeliveredEvent[] = [];
  const statuses: Status[] = [];
  const refusals: Refusal[] = [];
  const subscription = subscribe({
    url,
    topic: { kind: 'job', jobId: 'j_1' },
    after,
    transports: ['sse'],
    onEvent: (event) => received.push(event),
    onStatus: (status) => statuses.push(status),
    onRefused: (refusal) => refusals.push(refusal),
  });
  open.push(subscription);
  return { received, statuses, refusals };
};

describe('the realtime client over Server-Sent Events', () => {
  it.each([
    { status: 408 },
    { status: 425, headers: { 'retry-after': '0' } },
    { status: 429, headers: { 'retry-after': '1' } },
    { status: 503 },
  ])('asks again after a passing $status, and streams', async (firstAnswer) => {
    const hub = await startStreamHub(firstAnswer);
    closers.push(hub.close);
    const { received, statuses, refusals } = watchStream(hub.url);
    await until('the event', () => received.length === 1);
    expect(received[0]?.id).toBe(deliveredEvent.id);
    expect(hub.requests()).toBe(2);
    expect(refusals).toEqual([]);
    expect(statuses).toEqual(['connecting', 'reconnecting', 'live']);
  });

  it.each([
    [400, 'validation_failed'],
    [401, 'unauthenticated'],
    [403, 'forbidden'],
    [404, 'not_found'],
  ])('ends on a %i, with the refusal (%s)', async (status, code) => {
    const hub = await startStreamHub({ status });
    closers.push(hub.close);
    const { received, statuses, refusals } = watchStream(hub.url);
    await until('the refusal', () => refusals.length === 1);
    await sleep(600); // longer than its first pause before asking again
    expect(refusals).toEqual([{ code, message: `the stream was refused with ${status}` }]);
    expect(hub.requests()).toBe(1);
    expect(received).toEqual([]);
    expect(statuses).toEqual(['connecting', 'closed']);
  });
});
