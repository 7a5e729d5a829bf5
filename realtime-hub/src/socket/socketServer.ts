import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import type { Subscription } from 'rxjs';
import { Server, type Socket } from 'socket.io';
import type { PublicUser } from '@kiln/contracts/accounts/http';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import {
  SubscribeRequest,
  UnsubscribeRequest,
  type EventMessage,
  type SubscribeAck,
  type PresenceMessage,
  type ResyncMessage,
} from '@kiln/contracts/realtime';
import type { RecordedEvent } from '@kiln/event-store/port';
import type { IdentityStore } from '@kiln/identity/store';
import { resolveCredentials } from '@kiln/identity/http';
import type { Logger } from '@kiln/service-kit/logger';
import type { HubMetrics } from '#src/metrics.ts';
import { createPresenceAnnouncer, presenceRoomOf as roomOf } from '#src/presence/announcer.ts';
import type { Presence } from '#src/presence/presence.ts';
import { roomBelow, unsentBytes } from '#src/socket/outgoing.ts';
import { JsonText, jsonTextParser } from '#src/socket/jsonTextEncoder.ts';
import { eventsMessageText, toDelivered } from '#src/topics/delivered.ts';
import { channelOf, SubscriptionRefused } from '#src/topics/access.ts';
import {
  FellBehind,
  openSubscription,
  ResyncReason,
  type SubscriptionDeps,
} from '#src/topics/openSubscription.ts';

export type SocketServerOptions = {
  httpServer: HttpServer;
  identity: Pick<IdentityStore, 'userBySessionToken' | 'userByApiToken'>;
  subscriptions: SubscriptionDeps;
  redis: Redis;
  redisPrefix: string;
  presence: Presence;
  presenceTtlSeconds: number;
  /** Unsent bytes per socket before it is told to resync and dropped. */
  maxPendingBytes: number;
  /** How long a catch-up waits for a client to make room before dropping it (twice the heartbeat). */
  stallMs: number;
  corsOrigins: string[];
  instanceId: string;
  logger: Logger;
  metrics: HubMetrics;
};

type Ack = (answer: SubscribeAck) => void;
type LiveEvent = RecordedEvent<KilnEvent>;
/** One live event under one channel, and the sockets it goes to. */
type Outgoing = { message: EventMessage; socketIds: string[] };
/** One subscription of a socket: its live stream once the catch-up is out, and its last position sent. */
type OpenEntry = { live?: Subscription; cancel: () => void; sessionId?: string; last: Position | null };
/** Catch-up events go out this many to a message, each only once the client has room for it. */
const refusal = (
  code: 'invalid_message' | 'unauthenticated' | 'forbidden' | 'not_found' | 'internal',
  message: string,
): SubscribeAck => ({
  ok: false,
  error: { code, message },
});

/**
 * The Socket.IO side of the hub. A socket is authenticated once, at its handshake (the session cookie or
 * `auth.token`, an API token); then it subscribes to topics, each with the last position it has seen.
 * Every message in is checked against its contract and answered by an ack; nothing a client sends can
 * throw here. A socket whose unsent bytes pile up past `maxPendingBytes` is told to resync from its last
 * delivered position and dropped, so a slow client cannot grow the hub's memory; a catch-up goes out a
 * message at a time, each once the client is below that bound (waiting at most `stallMs` for it).
 */
export const attachSocketServer = (options: SocketServerOptions) => {
  const { logger, metrics, presence } = options;
  const io = new Server(options.httpServer, {
    serveClient: false,
    maxHttpBufferSize: 64 * 1024,
    parser: jsonTextParser,
    ...(options.corsOrigins.length > 0 ? { cors: { origin: options.corsOrigins, credentials: true } } : {}),
  });
  const subscriber = options.redis.duplicate();
  io.adapter(createAdapter(options.redis, subscriber, { key: `${options.redisPrefix}:socket.io` }));

  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth['token'];
    resolveCredentials(options.identity, {
      authorization: typeof token === 'string' ? `Bearer ${token}` : socket.handshake.headers.authorization,
      cookie: socket.handshake.headers.cookie,
    }).then(
      (auth) => {
        if (!auth) return next(new Error('unauthenticated: sign in, or send an API token'));
        (socket.data as { user?: PublicUser }).user = auth.user;
        next();
      },
      (error: unknown) =>
        next(new Error(`unauthenticated: ${error instanceof Error ? error.message : 'bad credentials'}`)),
    );
  });

  const announce = createPresenceAnnouncer({ io, presence, logger });

  /**
   * Live events go out once per event and channel to every socket whose subscription let them through in
   * the same turn of the event loop: one encoding for the room, as a broadcast, instead of one per socket.
   * Every subscription is handed the feed's same event object, so that object is the key.
   */
  const outbox = new Map<LiveEvent, Outgoing[]>();
  const flushOutbox = () => {
    for (const outgoing of outbox.values())
      for (const { message, socketIds } of outgoing) {
        io.local.to(socketIds).emit('event', message);
        metrics.delivered.inc(socketIds.length);
      }
    outbox.clear();
  };
  const sendLive = (socketId: string, channel: string, event: LiveEvent) => {
    let outgoing = outbox.get(event);
    if (!outgoing) {
      if (outbox.size === 0) queueMicrotask(flushOutbox);
      outbox.set(event, (outgoing = []));
    }
    let entry = outgoing.find((candidate) => candidate.message.channel === channel);
    if (!entry) outgoing.push((entry = { message: { channel, event: toDelivered(event) }, socketIds: [] }));
    entry.socketIds.push(socketId);
  };

  io.on('connection', (socket: Socket) => {
    const user = (socket.data as { user: PublicUser }).user;
    const connectionId = `${options.instanceId}/${socket.id}`;
    const open = new Map<string, OpenEntry>();
    let dropped = false;
    metrics.connections.inc();

    const dropForResync = (subscriptionId: string | undefined, position: Position | null, reason: string) => {
      if (dropped) return;
      dropped = true;
      metrics.resyncs.inc({ reason });
      const message: ResyncMessage = { ...(subscriptionId ? { subscriptionId } : {}), position, reason };
      socket.emit('resync', message);
      socket.disconnect(true);
    };

    const stopWatching = (sessionId: string) => {
      void socket.leave(roomOf(sessionId));
      presence
        .leave(sessionId, connectionId)
        .then(() => announce(sessionId))
        .catch((error: unknown) => logger.warn({ err: error }, 'presence could not be updated'));
    };

    const unsubscribe = (subscriptionId: string) => {
      const entry = open.get(subscriptionId);
      if (!entry) return;
      open.delete(subscriptionId);
      entry.live?.unsubscribe();
      entry.cancel();
      metrics.subscriptions.dec();
      const { sessionId } = entry;
      if (sessionId && ![...open.values()].some((other) => other.sessionId === sessionId))
        stopWatching(sessionId);
    };

    const subscribe = async (raw: unknown, ack: Ack) => {
      const parsed = SubscribeRequest.safeParse(raw);
      if (!parsed.success)
        return ack(
          refusal(
            'invalid_message',
            `not a subscribe message: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
          ),
        );
      const request = parsed.data;
      unsubscribe(request.subscriptionId);
      let opened;
      try {
        opened = await openSubscription(options.subscriptions, user, request);
      } catch (error) {
        if (error instanceof SubscriptionRefused) return ack(refusal(error.code, error.message));
        logger.error({ err: error }, 'a subscription could not be opened');
        return ack(refusal('internal', 'the subscription could not be opened; try again'));
      }
      if (dropped || socket.disconnected) return opened.cancel();
      const channel = channelOf(opened.topic);
      ack({ ok: true, subscriptionId: request.subscriptionId, channel, resumed: opened.resumed });
      const { subscriptionId } = request;
      if (opened.state) socket.emit('state', { subscriptionId, ...opened.state });
      const entry: OpenEntry = {
        cancel: opened.cancel,
        last: request.after ?? opened.state?.position ?? null,
        ...(opened.topic.kind === 'session' ? { sessionId: opened.topic.sessionId } : {}),
      };
      open.set(subscriptionId, entry);
      metrics.subscriptions.inc();
      const stillOpen = () => !dropped && open.get(subscriptionId) === entry;
      try {
        for await (const batch of opened.catchUp.batches) {
          const room = await roomBelow(socket, options.maxPendingBytes, options.stallMs);
          if (!stillOpen()) return;
          if (!room) return dropForResync(subscriptionId, entry.last, ResyncReason.tooSlow);
          socket.emit('events', new JsonText(eventsMessageText(channel, batch)));
          entry.last = batch.at(-1)?.position ?? entry.last;
          metrics.delivered.inc(batch.length);
        }
      } catch (error) {
        logger.error({ err: error }, 'a catch-up could not be read');
        if (stillOpen()) dropForResync(subscriptionId, entry.last, ResyncReason.lostRead);
        return;
      }
      entry.live = opened.live$.subscribe({
        next: (event) => {
          if (dropped) return;
          if (unsentBytes(socket) >= options.maxPendingBytes)
            return dropForResync(subscriptionId, entry.last, ResyncReason.tooSlow);
          sendLive(socket.id, channel, event);
          entry.last = event.position;
        },
        error: (error: unknown) => {
          if (error instanceof FellBehind)
            return dropForResync(subscriptionId, entry.last, ResyncReason.tooSlow);
          logger.error({ err: error }, 'a live stream failed');
          dropForResync(subscriptionId, entry.last, ResyncReason.lostLiveStream);
        },
      });
      if (entry.sessionId) {
        const sessionId = entry.sessionId;
        await socket.join(roomOf(sessionId));
        await presence.join(sessionId, connectionId, { userId: user.id, displayName: user.displayName });
        // Gone while joining: it must not stay present (its renewals would keep it there).
        if (!stillOpen() && ![...open.values()].some((other) => other.sessionId === sessionId))
          return stopWatching(sessionId);
        // The newcomer is told at once; the whole room when the list has changed.
        socket.emit('presence', {
          sessionId,
          watchers: await presence.watchers(sessionId),
        } satisfies PresenceMessage);
        announce(sessionId);
      }
    };

    socket.on('subscribe', (raw: unknown, ack: unknown) => {
      const reply: Ack = typeof ack === 'function' ? (ack as Ack) : () => undefined;
      subscribe(raw, reply).catch((error: unknown) => {
        logger.error({ err: error }, 'subscribe failed');
        reply(refusal('internal', 'the subscription failed; try again'));
      });
    });
    socket.on('unsubscribe', (raw: unknown, ack: unknown) => {
      const reply: Ack = typeof ack === 'function' ? (ack as Ack) : () => undefined;
      const parsed = UnsubscribeRequest.safeParse(raw);
      if (!parsed.success) return reply(refusal('invalid_message', 'not an unsubscribe message'));
      unsubscribe(parsed.data.subscriptionId);
      reply({ ok: true, subscriptionId: parsed.data.subscriptionId });
    });
    socket.onAny((name: unknown, ...rest: unknown[]) => {
      if (name === 'subscribe' || name === 'unsubscribe') return;
      const ack = rest.at(-1);
      if (typeof ack === 'function')
        (ack as Ack)(refusal('invalid_message', `unknown message ${String(name).slice(0, 50)}`));
    });
    socket.on('disconnect', () => {
      for (const subscriptionId of [...open.keys()]) unsubscribe(subscriptionId);
      metrics.connections.dec();
    });
  });

  const renewal = setInterval(
    () => {
      presence
        .renew()
        .then((sessions) => sessions.forEach(announce))
        .catch((error: unknown) => logger.warn({ err: error }, 'presence could not be renewed'));
    },
    Math.max(250, (options.presenceTtlSeconds * 1000) / 3),
  );

  return {
    io,
    /** Tells every client to come back (with its own position) and closes its socket: for a restart. */
    drain: () => {
      io.local.emit('resync', { position: null, reason: 'the hub is restarting' } satisfies ResyncMessage);
      io.local.disconnectSockets(true);
    },
    /** Stops renewing presence and lets go of Redis; the HTTP server is closed by its owner. */
    close: () => {
      clearInterval(renewal);
      io.local.disconnectSockets(true);
      subscriber.disconnect();
    },
  };
};
