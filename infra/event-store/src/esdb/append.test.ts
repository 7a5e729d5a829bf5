import {
  StreamNotFoundError,
  WrongExpectedVersionError,
  type AppendToStreamOptions,
  type EventData,
  type EventStoreDBClient,
  type ReadStreamOptions,
} from '@eventstore/db-client';
import { beforeEach, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { DuplicateEventIds, WrongExpectedRevision } from '#src/errors.ts';
import { createAppender } from '#src/esdb/append.ts';
import { toPosition, type EsdbRecordedEvent } from '#src/esdb/mapping.ts';
import { progressed, progressedEvents } from '#src/testing/events.ts';

/**
 * An in-memory stand-in for EventStoreDB's append and stream reads, with its documented idempotency:
 * at an expected revision behind the stream, the same event ids answer success without storing them
 * again (with the original's revision and position), others a wrong expected version; with `any`, the
 * same ids are recognised wherever they are in the stream (the server's best effort).
 */
class FakeEsdb {
  readonly streams = new Map<string, EsdbRecordedEvent[]>();
  appendCalls = 0;
  #log = 1_000n;

  readStream(
    streamId: string,
    {
      direction = 'forwards',
      fromRevision = 'start',
      maxCount = Number.MAX_SAFE_INTEGER,
    }: ReadStreamOptions = {},
  ) {
    const stream = this.streams.get(streamId);
    const take = async function* () {
      await Promise.resolve();
      if (!stream) throw new StreamNotFoundError(undefined, streamId);
      const ordered = direction === 'forwards' ? stream : [...stream].reverse();
      const from = fromRevision === 'start' || fromRevision === 'end' ? undefined : fromRevision;
      const selected = ordered.filter((event) =>
        from === undefined
          ? true
          : direction === 'forwards'
            ? event.revision >= from
            : event.revision <= from,
      );
      for (const event of selected.slice(0, Number(maxCount))) yield { event };
    };
    return take();
  }

  appendToStream(
    streamId: string,
    events: EventData[],
    { expectedRevision = 'any' }: AppendToStreamOptions = {},
  ) {
    this.appendCalls += 1;
    const stream = this.streams.get(streamId) ?? [];
    const current = BigInt(stream.length - 1);
    const success = (last: EsdbRecordedEvent) =>
      Promise.resolve({ success: true, nextExpectedRevision: last.revision, position: last.position });
    const wrong = () =>
      Promise.reject(
        new WrongExpectedVersionError(undefined, {
          streamName: streamId,
          expected: expectedRevision,
          current: current < 0n ? 'no_stream' : current,
        }),
      );
    const ids = events.map((event) => event.id);
    const compareFrom = (start: number) => {
      const stored = stream.slice(start, start + ids.length);
      const matching = stored.filter((event) => ids.includes(event.id)).length;
      if (matching === 0) return 'none';
      return matching === ids.length && stored.every((event, index) => event.id === ids[index])
        ? 'same'
        : 'partly';
    };
    if (expectedRevision === 'any') {
      const start = stream.findIndex((event) => event.id === ids[0]);
      if (start >= 0)
        return compareFrom(start) === 'same' ? success(stream[start + ids.length - 1]!) : wrong();
      if (stream.some((event) => ids.includes(event.id))) return wrong();
    } else if (expectedRevision !== 'stream_exists') {
      const expected = expectedRevision === 'no_stream' ? -1n : expectedRevision;
      if (expected > current) return wrong();
      if (expected < current) {
        const start = Number(expected) + 1;
        return compareFrom(start) === 'same' ? success(stream[start + ids.length - 1]!) : wrong();
      }
    }
    for (const data of events) {
      this.#log += 100n;
      stream.push({
        streamId,
        id: data.id,
        revision: BigInt(stream.length),
        type: data.type,
        data: data.data,
        metadata: data.metadata,
        isJson: true,
        created: new Date(),
        position: { commit: this.#log, prepare: this.#log },
      });
    }
    this.streams.set(streamId, stream);
    return success(stream.at(-1)!);
  }
}

describe('the EventStoreDB appender', () => {
  let server: FakeEsdb;
  let append: ReturnType<typeof createAppender>;
  beforeEach(() => {
    server = new FakeEsdb();
    append = createAppender(server as unknown as EventStoreDBClient);
  });
  const lastPosition = (streamId: string) => toPosition(server.streams.get(streamId)!.at(-1)!.position!);

  it('appends a new stream and answers with the revision and position of its last event', async () => {
    const result = await append('job-a', progressedEvents('a', 3), 'no_stream');
    expect(result).toEqual({ nextExpectedRevision: 2, position: lastPosition('job-a'), appended: true });
  });

  it('answers a retry at the same expected revision from the stream, sending nothing', async () => {
    const events = progressedEvents('a', 2);
    const first = await append('job-a', events, 'no_stream');
    const calls = server.appendCalls;
    expect(await append('job-a', events, 'no_stream')).toEqual({ ...first, appended: false });
    expect(server.appendCalls).toBe(calls);
  });

  it('recognises a retry even when others appended after it', async () => {
    const events = [progressed('a', 0.1)];
    await append('job-a', [progressed('a', 0)], 'no_stream');
    const first = await append('job-a', events, 0);
    await append('job-a', progressedEvents('a', 3), 1);
    expect(await append('job-a', events, 0)).toEqual({ ...first, appended: false });
    expect(server.streams.get('job-a')).toHaveLength(5);
  });

  it('refuses a stale expected revision without sending anything, and reports the actual one', async () => {
    await append('job-a', progressedEvents('a', 2), 'no_stream');
    const calls = server.appendCalls;
    const refused = append('job-a', [progressed('a', 1)], 0);
    await expect(refused).rejects.toBeInstanceOf(WrongExpectedRevision);
    await expect(refused).rejects.toMatchObject({ expected: '0', actual: '1' });
    await expect(append('job-a', [progressed('a', 1)], 'no_stream')).rejects.toBeInstanceOf(
      WrongExpectedRevision,
    );
    expect(server.appendCalls).toBe(calls);
  });

  it("maps EventStoreDB's wrong expected version for a revision past the stream", async () => {
    const refused = append('job-b', [progressed('b', 1)], 4);
    await expect(refused).rejects.toBeInstanceOf(WrongExpectedRevision);
    await expect(refused).rejects.toMatchObject({ expected: '4', actual: 'no_stream' });
  });

  it('answers a retry with `any` as a retry, right after the append or after others appended', async () => {
    const events = progressedEvents('c', 2);
    const first = await append('job-c', events, 'any');
    expect(first.appended).toBe(true);
    expect(await append('job-c', events, 'any')).toEqual({ ...first, appended: false });
    await append('job-c', [progressed('c', 0.9)], 'any');
    expect(await append('job-c', events, 'any')).toEqual({ ...first, appended: false });
    expect(server.streams.get('job-c')).toHaveLength(3);
  });

  it('refuses events partly stored before, with an expected revision or with `any`', async () => {
    const [one, two] = progressedEvents('d', 2) as [KilnEvent, KilnEvent];
    await append('job-d', [one], 'no_stream');
    await expect(append('job-d', [one, two], 'no_stream')).rejects.toBeInstanceOf(DuplicateEventIds);
    await expect(append('job-d', [one, two], 'any')).rejects.toBeInstanceOf(DuplicateEventIds);
    expect(server.streams.get('job-d')).toHaveLength(1);
  });

  it('refuses an expected revision that is not one before reading anything', async () => {
    await expect(append('job-e', [progressed('e', 0)], -2)).rejects.toBeInstanceOf(RangeError);
    expect(server.appendCalls).toBe(0);
  });
});
