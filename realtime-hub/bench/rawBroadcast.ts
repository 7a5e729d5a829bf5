// The baselines of the fan-out. The raw pipeline: what any system has to do to get an appended event to
// its watchers, and nothing more. The same append (the event store's own, into a schema of its own, so the
// hub never sees it), then the process that broadcasts is told of it: a NOTIFY carrying the event, sent as
// soon as the append has committed, heard on a LISTEN connection; then one Socket.IO broadcast of it to a
// room. And the bare broadcast: the same payload broadcast to the same room, with no append before it.
import { createServer } from 'node:http';
import pg from 'pg';
import { Server } from 'socket.io';
import type { KilnEvent } from '@kiln/contracts/events';
import type { DeliveredEvent, EventMessage } from '@kiln/contracts/realtime';
import { openEventStore } from '@kiln/event-store/open';

const now = () => performance.timeOrigin + performance.now();

/**
 * A LISTEN connection of the bench's own: when each notification on `channel` arrives (and what it says).
 * On the hub's store channel it times the store's own notification of an append.
 */
export const listenTo = async (
  connectionString: string,
  channel: string,
  onPayload: (payload: string) => void = () => undefined,
) => {
  const client = new pg.Client({ connectionString });
  await client.connect();
  const arrivals: number[] = [];
  client.on('notification', (message) => {
    arrivals.push(now());
    onPayload(message.payload ?? '');
  });
  await client.query(`listen "${channel}"`);
  return { arrivals, close: () => client.end() };
};

export const startRawBroadcast = async (options: {
  eventStoreUrl: string;
  schema: string;
  /** The channel name the messages carry, as the hub's do. */
  channel: string;
}) => {
  const store = await openEventStore(options.eventStoreUrl, { schema: options.schema });
  const http = createServer();
  // The hub's own Socket.IO options.
  const io = new Server(http, { serveClient: false, maxHttpBufferSize: 64 * 1024 });
  io.on('connection', (socket) => void socket.join('watchers'));
  const notifyChannel = `${options.schema}_raw`;
  const told = await listenTo(options.eventStoreUrl, notifyChannel, (payload) => {
    const event = JSON.parse(payload) as DeliveredEvent;
    io.to('watchers').emit('event', { channel: options.channel, event } satisfies EventMessage);
  });
  const notifier = new pg.Client({ connectionString: options.eventStoreUrl });
  await notifier.connect();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const address = http.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    /** When each notification reached the broadcaster. */
    toldAt: told.arrivals,
    /** Appends the event, then notifies the broadcaster of it as stored. */
    append: async (streamId: string, event: KilnEvent) => {
      const appended = await store.appendToStream(streamId, [event]);
      const delivered: DeliveredEvent = {
        ...event,
        streamId,
        revision: appended.nextExpectedRevision,
        position: appended.position,
        recordedAt: new Date().toISOString(),
      };
      await notifier.query('select pg_notify($1, $2)', [notifyChannel, JSON.stringify(delivered)]);
    },
    /** Broadcasts the event as if it were stored, with nothing before it: the bare Socket.IO side. */
    broadcast: (streamId: string, event: KilnEvent, position: string) => {
      const delivered: DeliveredEvent = {
        ...event,
        streamId,
        revision: 0,
        position,
        recordedAt: new Date().toISOString(),
      };
      io.to('watchers').emit('event', { channel: options.channel, event: delivered } satisfies EventMessage);
    },
    close: async () => {
      await io.close();
      await Promise.all([told.close(), notifier.end(), store.close()]);
      const admin = new pg.Client({ connectionString: options.eventStoreUrl });
      await admin.connect();
      await admin.query(`drop schema if exists ${options.schema} cascade`);
      await admin.end();
    },
  };
};
