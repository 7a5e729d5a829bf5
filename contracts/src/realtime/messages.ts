import { z } from 'zod';
import { EntityId, EventMetadata } from '#src/envelope.ts';
import { Position } from '#src/position.ts';

/**
 * The realtime protocol (Socket.IO events and their Server-Sent Events twins). A client subscribes to a
 * topic with the last position it has seen; the hub answers how it resumed, sends every matching event
 * after that position in global order, then the live ones.
 */
export const Topic = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('job'), jobId: EntityId }),
  /** The session's own events (membership, jobs added) and the events of its jobs from when they were added. */
  z.strictObject({ kind: z.literal('session'), sessionId: EntityId }),
  /** An account's billing events; without an id, the caller's own. */
  z.strictObject({ kind: z.literal('account'), accountId: EntityId.optional() }),
]);
export type Topic = z.infer<typeof Topic>;

export const SubscriptionId = z.string().min(1).max(64);

/** client → hub `subscribe` */
export const SubscribeRequest = z.strictObject({
  subscriptionId: SubscriptionId,
  topic: Topic,
  /** The last position the client has seen; without it the client gets the current state first. */
  after: Position.optional(),
});
export type SubscribeRequest = z.infer<typeof SubscribeRequest>;

/** client → hub `unsubscribe` */
export const UnsubscribeRequest = z.strictObject({ subscriptionId: SubscriptionId });

export const RealtimeErrorCode = z.enum([
  'invalid_message',
  'unauthenticated',
  'forbidden',
  'not_found',
  'internal',
]);

/** How a subscription started: the events replayed after the client's position, or a state snapshot. */
export const Resumed = z.discriminatedUnion('mode', [
  z.strictObject({ mode: z.literal('replay'), after: Position, events: z.int().nonnegative() }),
  z.strictObject({
    mode: z.literal('snapshot'),
    position: Position.nullable(),
    events: z.int().nonnegative(),
  }),
]);
export type Resumed = z.infer<typeof Resumed>;

/** hub → client: the answer (Socket.IO ack) to `subscribe` and `unsubscribe`. */
export const SubscribeAck = z.discriminatedUnion('ok', [
  z.strictObject({
    ok: z.literal(true),
    subscriptionId: SubscriptionId,
    /** The name the subscription's events come under (`job:<id>`, `session:<id>`, `account:<id>`). */
    channel: z.string().optional(),
    resumed: Resumed.optional(),
  }),
  z.strictObject({
    ok: z.literal(false),
    error: z.strictObject({ code: RealtimeErrorCode, message: z.string() }),
  }),
]);
export type SubscribeAck = z.infer<typeof SubscribeAck>;

/** An event as stored, as clients receive it: the envelope plus where it is in `$all`. */
export const DeliveredEvent = z.strictObject({
  id: z.uuid(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
  metadata: EventMetadata,
  streamId: z.string(),
  revision: z.int().nonnegative(),
  position: Position,
  recordedAt: z.string(),
});
export type DeliveredEvent = z.infer<typeof DeliveredEvent>;

/**
 * hub → client `event`, under the subscription's channel: every client watching the same topic on an
 * instance gets the very same message, encoded once.
 */
export const EventMessage = z.strictObject({ channel: z.string(), event: DeliveredEvent });
export type EventMessage = z.infer<typeof EventMessage>;

/** hub → client `events`: a run of catch-up events at once (a resume from an old position), in order. */
export const EventsMessage = z.strictObject({ channel: z.string(), events: z.array(DeliveredEvent) });
export type EventsMessage = z.infer<typeof EventsMessage>;

/**
 * hub → client `state`: the topic's current state from the read models, sent first to a client with no
 * position; the events that follow are exactly those after it. `position` is where to resume from.
 */
export const StateMessage = z.strictObject({
  subscriptionId: SubscriptionId,
  position: Position.nullable(),
  state: z.record(z.string(), z.unknown()),
});
export type StateMessage = z.infer<typeof StateMessage>;

export const Watcher = z.strictObject({ userId: EntityId, displayName: z.string() });

/** hub → client `presence`: who is watching a session now (on every hub instance). */
export const PresenceMessage = z.strictObject({ sessionId: EntityId, watchers: z.array(Watcher) });
export type PresenceMessage = z.infer<typeof PresenceMessage>;

/**
 * hub → client `resync`, then the connection is closed: the client fell too far behind (or the hub is
 * going away) and should subscribe again from `position`, its last delivered one.
 */
export const ResyncMessage = z.strictObject({
  subscriptionId: SubscriptionId.optional(),
  position: Position.nullable(),
  reason: z.string(),
});
export type ResyncMessage = z.infer<typeof ResyncMessage>;
