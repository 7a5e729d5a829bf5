import type { KilnEvent } from '@kiln/contracts/events';
import { createEsdbEventStore } from '#src/esdb/esdbEventStore.ts';
import {
  createPostgresEventStore,
  type PostgresEventStoreOptions,
} from '#src/postgres/postgresEventStore.ts';
import type { EventStore, NewEvent } from '#src/port.ts';

/** The options both adapters share, and the PostgreSQL adapter's own (which EventStoreDB ignores). */
export type OpenEventStoreOptions<Event extends NewEvent> = Omit<
  PostgresEventStoreOptions<Event>,
  'connectionString'
>;

const esdbSchemes = new Set(['esdb', 'esdb+discover']);
const postgresSchemes = new Set(['postgres', 'postgresql']);

/** The scheme of a URL, lower-cased, without reading (or echoing) anything after it. */
const schemeOf = (url: string): string | undefined =>
  /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();

/**
 * Opens the event store an `EVENTSTORE_URL` names: EventStoreDB for `esdb://` and `esdb+discover://`,
 * PostgreSQL for `postgres://` and `postgresql://`. Anything else is refused, naming only its scheme,
 * never the rest of the URL (it may hold a password).
 */
export const openEventStore = async <Event extends NewEvent = KilnEvent>(
  url: string,
  options: OpenEventStoreOptions<Event> = {},
): Promise<EventStore<Event>> => {
  const scheme = schemeOf(url);
  if (scheme && esdbSchemes.has(scheme)) {
    return createEsdbEventStore<Event>({
      connectionString: url,
      ...(options.parse ? { parse: options.parse } : {}),
      ...(options.parseOnRead !== undefined ? { parseOnRead: options.parseOnRead } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
    });
  }
  if (scheme && postgresSchemes.has(scheme))
    return createPostgresEventStore<Event>({ ...options, connectionString: url });
  throw new Error(
    `an event store URL starts with esdb://, esdb+discover://, postgres:// or postgresql://; ` +
      (scheme ? `${scheme}:// is not one of them` : 'this one has no scheme'),
  );
};
