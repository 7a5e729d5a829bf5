import pg from 'pg';
import { encodePosition, type Position } from '@kiln/contracts/position';
import type { EncodedEvent, NewEvent, RecordedEvent } from '#src/port.ts';

/** The columns every read selects, in the shape `toRecorded` takes. */
export const eventColumns =
  'transaction_id::text as xid, sequence, stream_id, stream_revision, event, recorded_at';

export type EventRow = {
  xid: string;
  sequence: string;
  stream_id: string;
  stream_revision: string;
  event: unknown;
  /** As PostgreSQL prints it in the UTC session: `2026-11-23 15:23:33.123456+00`. */
  recorded_at: string;
};

const TIMESTAMPTZ_OID = 1184;

/** Reads hand timestamps over as text: the ISO form is a few string operations, not a Date round trip. */
const keepText = (value: string): string => value;

export const readTypes: pg.CustomTypesConfig = {
  getTypeParser: (oid: number, format?: 'text' | 'binary'): unknown =>
    oid === TIMESTAMPTZ_OID ? keepText : (pg.types.getTypeParser(oid, format) as unknown),
};

/** Sessions run in UTC, so `recorded_at` always prints with a `+00` offset. */
export const utcSessionOptions = '-c TimeZone=UTC';

const isoFromPostgres = (text: string): string =>
  text.endsWith('+00') ? `${text.slice(0, 10)}T${text.slice(11, -3)}Z` : new Date(text).toISOString();

const HEX_WIDTH = 16;
const SAFE_DIGITS = 15;

/** The position from PostgreSQL's decimal text of (transaction id, sequence), without BigInt when it fits. */
export const positionOf = (xid: string, sequence: string): Position =>
  xid.length <= SAFE_DIGITS && sequence.length <= SAFE_DIGITS
    ? `${Number(xid).toString(16).padStart(HEX_WIDTH, '0')}-${Number(sequence).toString(16).padStart(HEX_WIDTH, '0')}`
    : encodePosition(BigInt(xid), BigInt(sequence));

/** A row becomes a recorded event in place: the event object is fresh from the driver's JSON parse. */
export const toRecorded = <Event extends NewEvent>(row: EventRow, event: Event): RecordedEvent<Event> => {
  const recorded = event as RecordedEvent<Event>;
  recorded.streamId = row.stream_id;
  recorded.revision = Number(row.stream_revision);
  recorded.position = positionOf(row.xid, row.sequence);
  recorded.recordedAt = isoFromPostgres(row.recorded_at);
  return recorded;
};

/** The columns of an encoded read: those of every read, with the event left as PostgreSQL's JSON text. */
export const encodedEventColumns =
  'transaction_id::text as xid, sequence, stream_id, stream_revision, event::text as event, recorded_at';

export type EncodedEventRow = Omit<EventRow, 'event'> & { event: string };

/**
 * A row becomes the JSON text of its recorded event without a parse: the stored envelope's text with
 * `streamId`, `revision`, `position` and `recordedAt` written in before its closing brace, as `toRecorded`
 * sets them.
 */
export const toEncoded = (row: EncodedEventRow): EncodedEvent => {
  const position = positionOf(row.xid, row.sequence);
  const revision = Number(row.stream_revision);
  const where = `"streamId": ${JSON.stringify(row.stream_id)}, "revision": ${revision}, "position": "${position}", "recordedAt": "${isoFromPostgres(row.recorded_at)}"`;
  const envelope = row.event.slice(0, -1);
  return { position, revision, json: `${envelope}${envelope === '{' ? '' : ', '}${where}}` };
};
