// One client watching one topic of the realtime hub over Socket.IO: subscribe with a position, then the
// catch-up (`events`) and the live events (`event`), each handed over with when it arrived.
import { Counter } from 'k6/metrics';
import { config } from './config.ts';
import { connectSocketIo } from './socketio.ts';

export type Delivered = {
  id: string;
  type: string;
  data: Record<string, unknown>;
  streamId: string;
  revision: number;
  position: string;
  recordedAt: string;
};

export type Topic = { kind: 'session'; sessionId: string } | { kind: 'job'; jobId: string };
export type Resumed = { mode: 'replay' | 'snapshot'; events: number };
type Ack = { ok: boolean; resumed?: Resumed; error?: { code: string; message: string } };

/** The hub refused the connection or the subscription, or a socket broke before its client closed it. */
export const socketFailures = new Counter('socket_failures');
/** `resync` from the hub: it dropped a client that fell behind (or went away). */
export const resyncs = new Counter('socket_resyncs');

export type WatchOptions = {
  token: string;
  topic: Topic;
  after?: string;
  /** `live` is false for the catch-up (`events`), true for `event`. */
  onEvent: (event: Delivered, live: boolean, receivedAt: number) => void;
  onSubscribed?: (resumed: Resumed | undefined, at: number) => void;
  /** The client should ignore one event it receives (the `drop-event` fault, to prove the checks work). */
  dropOne?: boolean;
  tags?: Record<string, string>;
};

export const watchTopic = (options: WatchOptions) => {
  // Under the `drop-event` fault the third event received is ignored (mid catch-up or live).
  let untilDropped = options.dropOne ? 3 : 0;
  let endedByUs = false;
  const deliver = (event: Delivered, live: boolean, receivedAt: number) => {
    if (untilDropped > 0 && --untilDropped === 0) return;
    options.onEvent(event, live, receivedAt);
  };
  const socket = connectSocketIo(
    config.hubUrl,
    options.token,
    {
      onConnected: () =>
        socket.emit(
          'subscribe',
          [{ subscriptionId: 's', topic: options.topic, ...(options.after ? { after: options.after } : {}) }],
          (args) => {
            const ack = args[0] as Ack | undefined;
            if (!ack?.ok) {
              socketFailures.add(1, { reason: 'subscribe refused' });
              console.warn(`subscribe refused: ${JSON.stringify(ack?.error)}`);
              return socket.close();
            }
            options.onSubscribed?.(ack.resumed, Date.now());
          },
        ),
      onEvent: (name, args, receivedAt) => {
        const message = args[0] as { event?: Delivered; events?: Delivered[] } | undefined;
        if (name === 'event' && message?.event) return deliver(message.event, true, receivedAt);
        if (name === 'events') for (const event of message?.events ?? []) deliver(event, false, receivedAt);
        if (name === 'resync') {
          resyncs.add(1);
          console.warn(`resync: ${JSON.stringify(message)}`);
        }
      },
      onRefused: (message) => {
        socketFailures.add(1, { reason: 'connection refused' });
        console.warn(`the hub refused the connection: ${message}`);
      },
      onClosed: () => {
        if (!endedByUs) socketFailures.add(1, { reason: 'closed by the hub' });
      },
      onError: (error) => {
        if (!endedByUs) socketFailures.add(1, { reason: 'error' });
        if (!endedByUs) console.warn(`WebSocket error: ${error}`);
      },
    },
    options.tags,
  );
  return {
    close: () => {
      endedByUs = true;
      socket.close();
    },
    isClosed: socket.isClosed,
  };
};
