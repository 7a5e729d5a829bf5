import { EventStoreDBClient, excludeSystemEvents, START } from '@eventstore/db-client';
import { parseEventForStream, type KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import { createAppender } from '#src/esdb/append.ts';
import { fromPosition, toRecordedEvent, type EsdbResolvedEvent } from '#src/esdb/mapping.ts';
import { createReads } from '#src/esdb/reads.ts';
import { resubscribingSubscription } from '#src/esdb/subscription.ts';
import { isTransientEsdbError } from '#src/esdb/transientErrors.ts';
import type { EventStore, EventSubscription, NewEvent, RecordedEvent } from '#src/port.ts';

export type EsdbEventStoreOptions<Event extends NewEvent> = {
  /** `esdb://host:2113?tls=false`, `esdb+discover://…`: the client's connection string. */
  connectionString: string;
  /** Checks an event against its stream's schema before it is stored. Kiln's contracts by default. */
  parse?: (streamId: string, event: unknown) => Event;
  /** Checks every event read back against the schema too. Off by default, as in the PostgreSQL adapter. */
  parseOnRead?: boolean;
  /** How many events `readAll` gives without a maxCount (the PostgreSQL adapter's batch size). */
  batchSize?: number;
};

/** How many events a subscription's stream holds before gRPC flow control stops the server. */
const SUBSCRIPTION_BUFFER = 32;

/**
 * The event store port on EventStoreDB (or KurrentDB) through `@eventstore/db-client` v6; see the
 * package README for what differs from the PostgreSQL adapter. Positions are EventStoreDB's own
 * (commit, prepare) pairs; revisions are its stream revisions. Needs a server of version 22.6 or later.
 */
export const createEsdbEventStore = <Event extends NewEvent = KilnEvent>(
  options: EsdbEventStoreOptions<Event>,
): Promise<EventStore<Event>> =>
  // The client connects on first use (and again after a failure), so opening needs no round trip; a
  // connection string it cannot parse still comes back as a rejection, not a throw.
  new Promise((resolve) => resolve(buildEsdbEventStore(options)));

const buildEsdbEventStore = <Event extends NewEvent>(
  options: EsdbEventStoreOptions<Event>,
): EventStore<Event> => {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const parse =
    options.parse ?? (parseEventForStream as unknown as (streamId: string, event: unknown) => Event);
  const readParse = options.parseOnRead ? parse : undefined;
  const recorded = (resolved: EsdbResolvedEvent): RecordedEvent<Event> | undefined =>
    toRecordedEvent(resolved, readParse);
  const reads = createReads(client, recorded, options.batchSize ?? 500);
  const append = createAppender(client);
  const openSubscriptions = new Set<EventSubscription<Event>>();

  const track = (subscription: EventSubscription<Event>) => {
    openSubscriptions.add(subscription);
    return subscription;
  };

  const subscribeToAll = (after: Position | undefined): EventSubscription<Event> => {
    const subscription: EventSubscription<Event> = resubscribingSubscription<
      Event,
      Position | undefined,
      EsdbResolvedEvent
    >({
      start: after,
      open: (cursor) =>
        client.subscribeToAll(
          { fromPosition: cursor ? fromPosition(cursor) : START, filter: excludeSystemEvents() },
          { highWaterMark: SUBSCRIPTION_BUFFER },
        ),
      toEvent: recorded,
      cursorOf: (event) => event.position,
      isAfter: (event, cursor) => cursor === undefined || event.position > cursor,
      isTransient: isTransientEsdbError,
      onClose: () => openSubscriptions.delete(subscription),
    });
    return track(subscription);
  };

  const subscribeToStream = (streamId: string, afterRevision: number): EventSubscription<Event> => {
    const subscription: EventSubscription<Event> = resubscribingSubscription<
      Event,
      number,
      EsdbResolvedEvent
    >({
      start: afterRevision,
      open: (cursor) =>
        client.subscribeToStream(
          streamId,
          { fromRevision: cursor < 0 ? START : BigInt(cursor) },
          { highWaterMark: SUBSCRIPTION_BUFFER },
        ),
      toEvent: recorded,
      cursorOf: (event) => event.revision,
      isAfter: (event, cursor) => event.revision > cursor,
      isTransient: isTransientEsdbError,
      onClose: () => openSubscriptions.delete(subscription),
    });
    return track(subscription);
  };

  return {
    appendToStream: async (streamId, events, appendOptions) => {
      if (events.length === 0) throw new RangeError(`an append to ${streamId} needs at least one event`);
      const checked = events.map((event) => parse(streamId, event));
      return append(streamId, checked, appendOptions?.expectedRevision ?? 'any');
    },
    readStream: reads.readStream,
    readStreamEncoded: reads.readStreamEncoded,
    revisionRange: reads.revisionRange,
    readAll: reads.readAll,
    subscribeToAll: (subscribeOptions = {}) => subscribeToAll(subscribeOptions.after),
    subscribeToStream: (streamId, subscribeOptions = {}) =>
      subscribeToStream(streamId, subscribeOptions.afterRevision ?? -1),
    headPosition: reads.headPosition,
    countAll: reads.countAll,
    close: async () => {
      await Promise.all([...openSubscriptions].map((subscription) => subscription.close()));
      await client.dispose();
    },
  };
};
