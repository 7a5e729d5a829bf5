import { io, type Socket } from 'socket.io-client';
import type {
  DeliveredEvent,
  PresenceMessage,
  ResyncMessage,
  StateMessage,
  SubscribeAck,
  Topic,
} from '@kiln/contracts/realtime';

/** An event as a reader got it, and from which hub. */
export type Arrival = { event: DeliveredEvent; url: string };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A plain Socket.IO client that records every event it receives, as it receives it: nothing is dropped
 * or deduplicated, so a hub that sends an event twice, or skips one, shows in `arrivals`. On every new
 * connection (after its own drops, a `resync`, or a hub gone away: then it tries the next URL) it
 * subscribes again with the position of the last event it got.
 */
export const rawSocketReader = (options: {
  urls: string[];
  cookie: string;
  topic: Topic;
  after?: string;
}) => {
  const arrivals: Arrival[] = [];
  const acks: SubscribeAck[] = [];
  const states: StateMessage[] = [];
  const presences: PresenceMessage[] = [];
  const resyncs: ResyncMessage[] = [];
  let last = options.after;
  let urlIndex = 0;
  let socket: Socket | undefined;
  let closed = false;
  /** Ends the connection in use, connected or still connecting (a socket not yet connected says nothing when closed). */
  let drop = () => {};
  const url = () => options.urls[urlIndex % options.urls.length] ?? '';

  const connect = () => {
    if (closed) return;
    const connectedTo = url();
    const current = io(connectedTo, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      extraHeaders: { cookie: options.cookie },
    });
    socket = current;
    let over = false;
    const again = (nextHub: boolean) => {
      if (over || closed) return;
      over = true;
      current.removeAllListeners();
      current.close();
      if (nextHub) urlIndex += 1;
      setTimeout(connect, 100);
    };
    drop = () => again(false);
    const record = (event: DeliveredEvent) => {
      arrivals.push({ event, url: connectedTo });
      last = event.position;
    };
    current.on('connect', () =>
      current
        .timeout(10_000)
        .emit(
          'subscribe',
          { subscriptionId: 'raw', topic: options.topic, ...(last ? { after: last } : {}) },
          (timedOut: Error | null, ack: SubscribeAck) => (timedOut ? again(true) : acks.push(ack)),
        ),
    );
    current.on('events', (message: { events: DeliveredEvent[] }) => message.events.forEach(record));
    current.on('event', (message: { event: DeliveredEvent }) => record(message.event));
    current.on('state', (message: StateMessage) => {
      states.push(message);
      last ??= message.position ?? undefined;
    });
    current.on('presence', (message: PresenceMessage) => presences.push(message));
    current.on('resync', (message: ResyncMessage) => resyncs.push(message));
    current.on('disconnect', () => again(false));
    current.on('connect_error', () => again(true));
  };
  connect();

  return {
    arrivals,
    events: () => arrivals.map((arrival) => arrival.event),
    acks,
    states,
    presences,
    resyncs,
    url,
    connected: () => socket?.connected === true,
    /** The socket in use, to send it something else (an unsubscribe). */
    socket: () => socket,
    /** Drops the connection; the reader comes back on a new one with its last position. */
    reconnect: () => drop(),
    close: () => {
      closed = true;
      socket?.close();
    },
  };
};

export type Frame = { id?: string; event: string; data: string };

/** The complete messages at the start of some text/event-stream text, and what is left after them. */
export const framesIn = (text: string): { frames: Frame[]; rest: string } => {
  const frames: Frame[] = [];
  let rest = text;
  for (let end = rest.indexOf('\n\n'); end !== -1; end = rest.indexOf('\n\n')) {
    const frame: Frame = { event: 'message', data: '' };
    for (const line of rest.slice(0, end).split('\n')) {
      const colon = line.indexOf(': ');
      const [field, value] = colon === -1 ? [line, ''] : [line.slice(0, colon), line.slice(colon + 2)];
      if (field === 'id') frame.id = value;
      if (field === 'event') frame.event = value;
      if (field === 'data') frame.data += value;
    }
    frames.push(frame);
    rest = rest.slice(end + 2);
  }
  return { frames, rest };
};

/** The messages of a text/event-stream body, as they come. */
async function* framesOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Frame> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    const { frames, rest } = framesIn(buffer + decoder.decode(chunk, { stream: true }));
    buffer = rest;
    yield* frames;
  }
}

/**
 * A plain SSE reader (fetch, no EventSource, no deduplication) that records every `event` message it
 * receives. It reconnects with `Last-Event-ID` set to the id of the last event it got, to the same hub
 * after a stream that ended or was dropped on purpose, to the next hub after one that broke or refused.
 */
export const rawSseReader = (options: { urls: string[]; cookie: string; query: string; after?: string }) => {
  const arrivals: Arrival[] = [];
  const resyncs: ResyncMessage[] = [];
  let last = options.after;
  let urlIndex = 0;
  let closed = false;
  let live = false;
  let controller = new AbortController();
  const url = () => options.urls[urlIndex % options.urls.length] ?? '';

  const reading = (async () => {
    while (!closed) {
      controller = new AbortController();
      const connectedTo = url();
      try {
        const response = await fetch(`${connectedTo}/v1/stream?${options.query}`, {
          headers: { cookie: options.cookie, ...(last ? { 'last-event-id': last } : {}) },
          signal: controller.signal,
        });
        if (!response.ok || !response.body) throw new Error(`the hub answered ${response.status}`);
        for await (const frame of framesOf(response.body)) {
          if (frame.event === 'resumed') live = true;
          if (frame.event === 'resync') resyncs.push(JSON.parse(frame.data) as ResyncMessage);
          if (frame.event !== 'event') continue;
          arrivals.push({ event: JSON.parse(frame.data) as DeliveredEvent, url: connectedTo });
          last = frame.id;
        }
      } catch {
        if (!controller.signal.aborted) urlIndex += 1;
      }
      live = false;
      await sleep(100);
    }
  })();

  return {
    arrivals,
    events: () => arrivals.map((arrival) => arrival.event),
    resyncs,
    url,
    /** Whether a stream is open (its `resumed` message came). */
    live: () => live,
    /** Drops the stream; the reader comes back with Last-Event-ID. */
    reconnect: () => controller.abort(),
    close: async () => {
      closed = true;
      controller.abort();
      await reading;
    },
  };
};
