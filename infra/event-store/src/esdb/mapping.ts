import { ANY, jsonEvent, NO_STREAM, type JSONEventData } from '@eventstore/db-client';
import { decodePosition, encodePosition, type Position } from '@kiln/contracts/position';
import type { ExpectedRevision, NewEvent, RecordedEvent } from '#src/port.ts';

/**
 * The pure conversions between the port and EventStoreDB's client (v6): positions, revisions, expected
 * revisions and events. No I/O here, so all of it is unit tested without a server.
 */

/** EventStoreDB's position in `$all`: the commit and prepare positions in its transaction log. */
export type EsdbPosition = { commit: bigint; prepare: bigint };

/** The part of the client's RecordedEvent the adapter reads (the client's JSON and binary events both fit). */
export type EsdbRecordedEvent = {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  data: unknown;
  metadata: unknown;
  isJson: boolean;
  created: Date;
  /** Sent by servers from 22.6 on, for stream reads as well as `$all` reads. */
  position?: EsdbPosition | undefined;
};

/** The part of the client's ResolvedEvent the adapter reads: without link resolution, `event` is the event. */
export type EsdbResolvedEvent = { event?: EsdbRecordedEvent | undefined };

/** The commit position is the high part, so the strings order as EventStoreDB orders `$all`. */
export const toPosition = ({ commit, prepare }: EsdbPosition): Position => encodePosition(commit, prepare);

export const fromPosition = (position: Position): EsdbPosition => {
  const { high, low } = decodePosition(position);
  return { commit: high, prepare: low };
};

/** Stream revisions are 0-based in both; the port counts in numbers, the client in bigints. */
export const toRevision = (revision: bigint): number => {
  if (revision < 0n || revision > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`stream revision ${revision} does not fit the port's revisions (0 to 2^53 - 1)`);
  }
  return Number(revision);
};

export type EsdbExpectedRevision = typeof ANY | typeof NO_STREAM | bigint;

export const toEsdbExpectedRevision = (expected: ExpectedRevision): EsdbExpectedRevision => {
  if (expected === 'any') return ANY;
  if (expected === 'no_stream') return NO_STREAM;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(
      `an expected revision is 'any', 'no_stream' or a revision (0 or more), not ${expected}`,
    );
  }
  return BigInt(expected);
};

/**
 * EventStoreDB's own events (`$metadata`, `$stats-…`, projections' `$>` links…): their type or their
 * stream starts with `$`. Kiln's events never do (stream ids are `job-…`, `billing-…`…).
 */
export const isSystemEvent = (event: { streamId: string; type: string }): boolean =>
  event.type.startsWith('$') || event.streamId.startsWith('$');

/** The position of a stored event; servers before 22.6 leave it out of stream reads, and Kiln needs it. */
export const positionOf = (event: EsdbRecordedEvent): Position => {
  if (!event.position) {
    throw new Error(
      `EventStoreDB gave no position for event ${event.id} of ${event.streamId}: the adapter needs a server of version 22.6 or later`,
    );
  }
  return toPosition(event.position);
};

/**
 * A resolved event as the port's recorded event, or undefined for what the port does not carry (a
 * missing event, EventStoreDB's system events). `parse`, when given, checks the envelope on the way out.
 */
export const toRecordedEvent = <Event extends NewEvent>(
  resolved: EsdbResolvedEvent,
  parse?: (streamId: string, event: unknown) => Event,
): RecordedEvent<Event> | undefined => {
  const stored = resolved.event;
  if (!stored || isSystemEvent(stored)) return undefined;
  if (!stored.isJson) {
    throw new Error(
      `event ${stored.id} of ${stored.streamId} is not JSON: the Kiln event store holds JSON events only`,
    );
  }
  const envelope = { id: stored.id, type: stored.type, data: stored.data, metadata: stored.metadata };
  const event = parse ? parse(stored.streamId, envelope) : (envelope as unknown as Event);
  return Object.assign(event, {
    streamId: stored.streamId,
    revision: toRevision(stored.revision),
    position: positionOf(stored),
    recordedAt: stored.created.toISOString(),
  });
};

/** A Kiln envelope as EventStoreDB's event data: its id, type and data, and its metadata as custom metadata. */
export const toEventData = (event: NewEvent): JSONEventData =>
  jsonEvent({ id: event.id, type: event.type, data: event.data, metadata: event.metadata });
