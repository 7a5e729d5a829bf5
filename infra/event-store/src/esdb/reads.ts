import { BACKWARDS, END, ErrorType, FORWARDS, START, type EventStoreDBClient } from '@eventstore/db-client';
import type { Position } from '@kiln/contracts/position';
import { fromPosition, isSystemEvent, positionOf, type EsdbResolvedEvent } from '#src/esdb/mapping.ts';
import type {
  EncodedEvent,
  NewEvent,
  PositionRange,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  RevisionRange,
} from '#src/port.ts';

const isStreamNotFound = (error: unknown): boolean =>
  error instanceof Error && (error as { type?: unknown }).type === ErrorType.STREAM_NOT_FOUND;

/** Every event of a finite read, in the order read; an empty list when the stream does not exist. */
export const collectRead = async (read: AsyncIterable<EsdbResolvedEvent>): Promise<EsdbResolvedEvent[]> => {
  const events: EsdbResolvedEvent[] = [];
  try {
    for await (const resolved of read) events.push(resolved);
  } catch (error) {
    if (isStreamNotFound(error)) return [];
    throw error;
  }
  return events;
};

/** How many events of `$all` one page reads: system events count against a page, so never read tiny ones. */
const pageSizeFor = (wanted: number) => Math.min(4_096, Math.max(64, wanted + 1));

type ToRecorded<Event extends NewEvent> = (resolved: EsdbResolvedEvent) => RecordedEvent<Event> | undefined;

export const createReads = <Event extends NewEvent>(
  client: EventStoreDBClient,
  recorded: ToRecorded<Event>,
  defaultMaxCount: number,
) => {
  const readStream = async (
    streamId: string,
    options: ReadStreamOptions = {},
  ): Promise<RecordedEvent<Event>[]> => {
    const maxCount = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (maxCount <= 0) return [];
    const fromRevision = options.fromRevision ?? 0;
    const read = client.readStream(streamId, {
      direction: FORWARDS,
      fromRevision: fromRevision <= 0 ? START : BigInt(fromRevision),
      maxCount,
    });
    return (await collectRead(read)).flatMap((resolved) => recorded(resolved) ?? []);
  };

  /** The client hands events over parsed: this encodes them again. */
  const readStreamEncoded = async (
    streamId: string,
    options: ReadStreamOptions = {},
  ): Promise<EncodedEvent[]> =>
    (await readStream(streamId, options)).map((event) => ({
      position: event.position,
      revision: event.revision,
      json: JSON.stringify(event),
    }));

  /** EventStoreDB cannot select a stream's events by global position: this reads the stream through once. */
  const revisionRange = async (streamId: string, range: PositionRange): Promise<RevisionRange | null> => {
    const within = (await readStream(streamId)).filter(
      (event) =>
        (range.after === undefined || event.position > range.after) &&
        (range.upTo === undefined || event.position <= range.upTo),
    );
    const [first, last] = [within.at(0), within.at(-1)];
    return first && last ? { first: first.revision, last: last.revision } : null;
  };

  /**
   * `$all` after a position, without EventStoreDB's system events. The client's readAll (v6) has no
   * filter and its `fromPosition` is inclusive, so this reads pages from the position, drops what is at
   * or before it and what is a system event, and goes on until it has `maxCount` events or reaches the end.
   */
  const readAll = async (options: ReadAllOptions = {}): Promise<RecordedEvent<Event>[]> => {
    const maxCount = options.maxCount ?? defaultMaxCount;
    const events: RecordedEvent<Event>[] = [];
    if (maxCount <= 0) return events;
    const pageSize = pageSizeFor(maxCount);
    let passed: Position | undefined = options.after;
    while (events.length < maxCount) {
      const page = await collectRead(
        client.readAll({
          direction: FORWARDS,
          fromPosition: passed ? fromPosition(passed) : START,
          maxCount: pageSize,
        }),
      );
      for (const resolved of page) {
        if (!resolved.event) continue;
        const position = positionOf(resolved.event);
        if (passed !== undefined && position <= passed) continue;
        passed = position;
        const event = recorded(resolved);
        if (event) events.push(event);
        if (events.length === maxCount) break;
      }
      if (page.length < pageSize) break;
    }
    return events;
  };

  /** The last event of `$all` that is not a system event, read backwards a page at a time. */
  const headPosition = async (): Promise<Position | null> => {
    const pageSize = 256;
    let before: Position | undefined;
    for (;;) {
      const page = await collectRead(
        client.readAll({
          direction: BACKWARDS,
          fromPosition: before ? fromPosition(before) : END,
          maxCount: pageSize,
        }),
      );
      for (const resolved of page) {
        if (!resolved.event) continue;
        const position = positionOf(resolved.event);
        if (before !== undefined && position >= before) continue;
        before = position;
        if (!isSystemEvent(resolved.event)) return position;
      }
      if (page.length < pageSize) return null;
    }
  };

  /** EventStoreDB keeps no count of `$all`: this pages through it, so it costs a read of what it counts. */
  const countAll = async (options: { after?: Position } = {}): Promise<number> => {
    let counted = 0;
    let after = options.after;
    for (;;) {
      const page = await readAll({ ...(after ? { after } : {}), maxCount: 4_096 });
      counted += page.length;
      if (page.length < 4_096) return counted;
      after = page.at(-1)?.position;
    }
  };

  return { readStream, readStreamEncoded, revisionRange, readAll, headPosition, countAll };
};
