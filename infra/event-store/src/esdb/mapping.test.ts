import { describe, expect, it } from 'vitest';
import { comparePositions } from '@kiln/contracts/position';
import { EventRejected, parseEventForStream, type KilnEvent } from '@kiln/contracts/events';
import {
  fromPosition,
  isSystemEvent,
  toEsdbExpectedRevision,
  toEventData,
  toPosition,
  toRecordedEvent,
  toRevision,
  type EsdbRecordedEvent,
} from '#src/esdb/mapping.ts';
import { progressed } from '#src/testing/events.ts';

const MAX_U64 = (1n << 64n) - 1n;

/** A resolved event shaped as the client (v6) hands it over for a JSON event. */
const resolvedOf = (event: KilnEvent, overrides: Partial<EsdbRecordedEvent> = {}) => ({
  event: {
    streamId: `job-${(event.data as { jobId: string }).jobId}`,
    id: event.id,
    revision: 7n,
    type: event.type,
    data: event.data,
    metadata: event.metadata,
    isJson: true,
    created: new Date('2026-03-01T12:34:56.789Z'),
    position: { commit: 4_242n, prepare: 4_242n },
    ...overrides,
  },
  commitPosition: 4_242n,
});

describe('positions', () => {
  it('round-trips EventStoreDB positions, from zero to the largest unsigned 64-bit numbers', () => {
    for (const position of [
      { commit: 0n, prepare: 0n },
      { commit: 1_234n, prepare: 1_234n },
      { commit: 1n << 40n, prepare: (1n << 40n) + 17n },
      { commit: MAX_U64, prepare: MAX_U64 },
    ]) {
      expect(fromPosition(toPosition(position))).toEqual(position);
    }
    expect(toPosition({ commit: 255n, prepare: 16n })).toBe('00000000000000ff-0000000000000010');
  });

  it('orders the strings as EventStoreDB orders $all: by commit position, then by prepare position', () => {
    const ordered = [
      { commit: 0n, prepare: 0n },
      { commit: 9n, prepare: 100n },
      { commit: 10n, prepare: 3n },
      { commit: 10n, prepare: 4n },
      { commit: 255n, prepare: 0n },
      { commit: 256n, prepare: 0n },
      { commit: 1n << 33n, prepare: 0n },
    ];
    const strings = ordered.map(toPosition);
    expect([...strings].sort()).toEqual(strings);
    for (let index = 1; index < strings.length; index += 1) {
      expect(comparePositions(strings[index - 1]!, strings[index]!)).toBeLessThan(0);
    }
  });

  it('refuses what is not a position', () => {
    expect(() => fromPosition('12-34')).toThrow();
    expect(() => toPosition({ commit: -1n, prepare: 0n })).toThrow(RangeError);
  });
});

describe('revisions', () => {
  it('maps the port expected revisions to the client ones', () => {
    expect(toEsdbExpectedRevision('any')).toBe('any');
    expect(toEsdbExpectedRevision('no_stream')).toBe('no_stream');
    expect(toEsdbExpectedRevision(0)).toBe(0n);
    expect(toEsdbExpectedRevision(41)).toBe(41n);
  });

  it('refuses an expected revision that is not a revision, as the PostgreSQL adapter does', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => toEsdbExpectedRevision(bad)).toThrow(RangeError);
    }
  });

  it('turns stream revisions into numbers, and refuses one a number cannot hold exactly', () => {
    expect(toRevision(0n)).toBe(0);
    expect(toRevision(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(() => toRevision(BigInt(Number.MAX_SAFE_INTEGER) + 1n)).toThrow(RangeError);
    expect(() => toRevision(-1n)).toThrow(RangeError);
  });
});

describe('system events', () => {
  it('are the ones whose type or stream starts with $', () => {
    expect(isSystemEvent({ streamId: '$stats-127.0.0.1:2113', type: '$statsCollected' })).toBe(true);
    expect(isSystemEvent({ streamId: '$$job-1', type: '$metadata' })).toBe(true);
    expect(isSystemEvent({ streamId: '$ce-job', type: '$>' })).toBe(true);
    expect(isSystemEvent({ streamId: '$projections-$all', type: 'ProjectionCreated' })).toBe(true);
    expect(isSystemEvent({ streamId: 'job-1', type: 'JobProgressed' })).toBe(false);
    expect(isSystemEvent({ streamId: 'job-$1', type: 'JobProgressed' })).toBe(false);
  });
});

describe('recorded events', () => {
  it('become the Kiln envelope plus stream, revision, position and recording time', () => {
    const event = progressed('j1', 0.5);
    const recorded = toRecordedEvent<KilnEvent>(resolvedOf(event));
    expect(recorded).toEqual({
      ...event,
      streamId: 'job-j1',
      revision: 7,
      position: '0000000000001092-0000000000001092',
      recordedAt: '2026-03-01T12:34:56.789Z',
    });
  });

  it('are checked against the schema on the way out when asked to', () => {
    const event = progressed('j2', 0.5);
    const bad = { ...event, data: { jobId: 'j2', step: 'x', progress: 7 } } as unknown as KilnEvent;
    expect(toRecordedEvent<KilnEvent>(resolvedOf(bad))?.data).toEqual(bad.data);
    expect(() => toRecordedEvent(resolvedOf(bad), parseEventForStream)).toThrow(EventRejected);
    expect(toRecordedEvent(resolvedOf(event), parseEventForStream)?.id).toBe(event.id);
  });

  it('leave out system events and entries without an event', () => {
    const event = progressed('j3', 0);
    expect(toRecordedEvent(resolvedOf(event, { streamId: '$$job-j3', type: '$metadata' }))).toBeUndefined();
    expect(toRecordedEvent(resolvedOf(event, { type: '$>' }))).toBeUndefined();
    expect(toRecordedEvent({})).toBeUndefined();
  });

  it('refuse events that are not JSON, and events without a position (servers before 22.6)', () => {
    const event = progressed('j4', 0);
    expect(() => toRecordedEvent(resolvedOf(event, { isJson: false, data: new Uint8Array([1]) }))).toThrow(
      /not JSON/,
    );
    expect(() => toRecordedEvent(resolvedOf(event, { position: undefined }))).toThrow(/22\.6/);
  });
});

describe('event data', () => {
  it('keeps the envelope id, type and data, with the envelope metadata as custom metadata', () => {
    const event = progressed('j5', 0.25);
    expect(toEventData(event)).toEqual({
      id: event.id,
      contentType: 'application/json',
      type: 'JobProgressed',
      data: event.data,
      metadata: event.metadata,
    });
  });
});
