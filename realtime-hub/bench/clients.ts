// The bench's Socket.IO clients, in a process of their own (so they do not share the hub's event loop).
// fanout.ts drives it over IPC (bench/crowd.ts): connect a crowd to the hub and one to the raw server,
// count and time each delivery (from the time the sender wrote into the payload to its arrival here),
// and replay a range to one client.
import { io, type Socket } from 'socket.io-client';
import type { Command, Side } from './crowd.ts';

const now = () => performance.timeOrigin + performance.now();
/**
 * The step a bench event carries: `bench|warm|bare <sequence> <ms since the epoch when it was sent>`;
 * `bare` ones are the raw server's broadcasts without an append, tallied on their own.
 */
const STEP = /^(bench|warm|bare) (\d+) ([\d.]+)$/;

type Tally = {
  latencies: number[];
  delivered: number;
  duplicates: number;
  waiting?: (() => void) | undefined;
};
const tallies: Record<Side, Tally> = {
  hub: { latencies: [], delivered: 0, duplicates: 0 },
  raw: { latencies: [], delivered: 0, duplicates: 0 },
  bare: { latencies: [], delivered: 0, duplicates: 0 },
};
const sockets: Socket[] = [];
const reply = (message: object) => process.send?.(message);

const listen = (sideTally: Tally, socket: Socket) => {
  const seen = new Set<string>();
  socket.on('event', (message: { event?: { data?: { step?: unknown } } }) => {
    const arrived = now();
    const step = message.event?.data?.step;
    const match = typeof step === 'string' ? STEP.exec(step) : null;
    if (!match) return;
    const [, kind, sequence = '', sentAt = ''] = match;
    const tally = kind === 'bare' ? tallies.bare : sideTally;
    if (seen.has(`${kind} ${sequence}`)) tally.duplicates += 1;
    seen.add(`${kind} ${sequence}`);
    tally.delivered += 1;
    if (kind !== 'warm') tally.latencies.push(arrived - Number(sentAt));
    tally.waiting?.();
  });
};

const open = (url: string, cookie: string | undefined) =>
  new Promise<Socket>((resolve, reject) => {
    const socket = io(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      ...(cookie ? { extraHeaders: { cookie } } : {}),
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });

const subscribed = (socket: Socket, request: object) =>
  new Promise<void>((resolve, reject) =>
    socket.emit('subscribe', request, (ack: { ok: boolean }) =>
      ack.ok ? resolve() : reject(new Error(JSON.stringify(ack))),
    ),
  );

const connect = async (command: Extract<Command, { kind: 'connect' }>) => {
  const crowd = await Promise.all(
    Array.from({ length: command.count }, () => open(command.url, command.cookie)),
  );
  for (const socket of crowd) listen(tallies[command.side], socket);
  if (command.subscribe) {
    const request = command.subscribe;
    await Promise.all(
      crowd.map((socket, index) => subscribed(socket, { subscriptionId: `bench-${index}`, ...request })),
    );
  }
  sockets.push(...crowd);
};

/** Resolves once `deliveries` have arrived on that side, or after `timeoutMs`. */
const drained = (side: Side, deliveries: number, timeoutMs: number) =>
  new Promise<void>((resolve) => {
    const tally = tallies[side];
    const timer = setTimeout(done, timeoutMs);
    function done() {
      clearTimeout(timer);
      tally.waiting = undefined;
      resolve();
    }
    tally.waiting = () => {
      if (tally.delivered >= deliveries) done();
    };
    tally.waiting();
  });

/** One client resumes `events` events behind: seconds from its subscribe to the last one, and their order. */
const replay = async (command: Extract<Command, { kind: 'replay' }>) => {
  const socket = await open(command.url, command.cookie);
  let received = 0;
  let outOfOrder = 0;
  let last = '';
  const take = (event: { position: string }) => {
    if (event.position <= last) outOfOrder += 1;
    last = event.position;
    received += 1;
  };
  const started = now();
  await new Promise<void>((resolve, reject) => {
    const check = () => received >= command.events && resolve();
    socket.on('events', (message: { events: Array<{ position: string }> }) => {
      message.events.forEach(take);
      check();
    });
    socket.on('event', (message: { event: { position: string } }) => (take(message.event), check()));
    socket.on('resync', (message: unknown) => reject(new Error(`resync: ${JSON.stringify(message)}`)));
    socket.emit('subscribe', command.subscribe);
  });
  const seconds = (now() - started) / 1000;
  socket.close();
  return { seconds, received, outOfOrder };
};

process.on('message', (command: Command) => {
  const answer = async () => {
    switch (command.kind) {
      case 'connect':
        return connect(command);
      case 'drain':
        return drained(command.side, command.deliveries, command.timeoutMs);
      case 'report':
        return tallies;
      case 'replay':
        return replay(command);
      case 'stop':
        for (const socket of sockets) socket.close();
        return process.exit(0);
    }
  };
  answer().then(
    (result) => reply({ id: command.id, result }),
    (error: unknown) => reply({ id: command.id, error: String(error) }),
  );
});
reply({ ready: true });
