import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { subscribe, type RealtimeSubscription, type Status } from '#src/client.ts';

/**
 * A real Socket.IO server standing in for a hub whose answers are slow or missing: `handshakeDelayMs`
 * holds each new connection before it is accepted, `unansweredSubscriptions` leaves that many
 * subscriptions without an ack.
 */
const startSlowHub = async (options: { handshakeDelayMs?: number; unansweredSubscriptions?: number }) => {
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
      if (subscriptions <= (options.unansweredSubscriptions ?? 0)) return;
      ack({ ok: true, subscriptionId: payload.subscriptionId, channel: 'job:j_1' });
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
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

const watch = (url: string, extra: { subscribeTimeoutMs?: number } = {}) => {
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
});
