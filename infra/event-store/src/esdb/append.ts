import { BACKWARDS, END, ErrorType, FORWARDS, type EventStoreDBClient } from '@eventstore/db-client';
import { DuplicateEventIds, WrongExpectedRevision } from '#src/errors.ts';
import { collectRead } from '#src/esdb/reads.ts';
import {
  positionOf,
  toEsdbExpectedRevision,
  toEventData,
  toPosition,
  toRevision,
  type EsdbRecordedEvent,
} from '#src/esdb/mapping.ts';
import type { AppendResult, ExpectedRevision, NewEvent } from '#src/port.ts';

/**
 * Appends with EventStoreDB's optimistic concurrency, and answers a retry the way the port says.
 *
 * EventStoreDB is idempotent by event id: the same events appended again at the same expected revision
 * succeed without being stored twice. But its answer is the same as for a fresh append (same
 * nextExpectedRevision, same position), so it cannot tell the caller `appended: false`. The appender
 * therefore reads the stream's tail first (on the leader, so it is not behind):
 * - expected revision E (or no_stream, E = -1), and the stream is already past E: the events after E
 *   are either these events (a retry: answered from them, nothing is sent) or others (a conflict);
 * - `any`: the tail ends with these events (a retry), or EventStoreDB's own best-effort check finds them
 *   further back, which shows as a nextExpectedRevision not past the tail read before.
 * Otherwise the append goes out, and EventStoreDB decides. The cost is one read before every append.
 */
export const createAppender = (client: EventStoreDBClient) => {
  const storedEvents = async (streamId: string, read: Parameters<EventStoreDBClient['readStream']>[1]) =>
    (await collectRead(client.readStream(streamId, { ...read, requiresLeader: true })))
      .map((resolved) => resolved.event)
      .filter((event): event is EsdbRecordedEvent => event !== undefined);

  /** The last `count` events of the stream, oldest first; none for a stream that does not exist. */
  const tailOf = async (streamId: string, count: number) =>
    (await storedEvents(streamId, { direction: BACKWARDS, fromRevision: END, maxCount: count })).reverse();

  const positionAt = async (streamId: string, revision: number) => {
    const [event] = await storedEvents(streamId, {
      direction: FORWARDS,
      fromRevision: BigInt(revision),
      maxCount: 1,
    });
    if (!event)
      throw new Error(`stream ${streamId} has no event at revision ${revision} right after an append to it`);
    return positionOf(event);
  };

  return async (streamId: string, events: NewEvent[], expected: ExpectedRevision): Promise<AppendResult> => {
    const expectedRevision = toEsdbExpectedRevision(expected);
    const tail = await tailOf(streamId, events.length);
    const lastStored = tail.at(-1);
    const lastRevision = lastStored ? toRevision(lastStored.revision) : -1;

    if (expected === 'any') {
      // Under `any`, a tail that only partly matches proves nothing yet: EventStoreDB's own check decides.
      const earlier = compareWithStored(events, tail);
      if (earlier.kind === 'same') return earlier.result;
    } else {
      const after = expected === 'no_stream' ? -1 : expected;
      if (lastRevision > after) {
        const firstInTail = tail[0];
        const stored =
          firstInTail && toRevision(firstInTail.revision) === after + 1
            ? tail
            : await storedEvents(streamId, {
                direction: FORWARDS,
                fromRevision: BigInt(after + 1),
                maxCount: events.length,
              });
        const earlier = compareWithStored(events, stored);
        if (earlier.kind === 'same') return earlier.result;
        if (earlier.kind === 'partly') throw partlyStored(streamId, events, earlier.matching);
        throw new WrongExpectedRevision(streamId, String(expected), String(lastRevision));
      }
    }

    try {
      const result = await client.appendToStream(streamId, events.map(toEventData), { expectedRevision });
      const nextExpectedRevision = toRevision(result.nextExpectedRevision);
      // Fresh events land past the tail read before; an answer not past it is EventStoreDB's dedup (`any`).
      // A fresh append's position is (L, L), L the log position of its last event, and a read of that
      // event gives the same (L, L) (servers from 20 on write implicit transactions, whose events each
      // sit at their own log position): so the answer equals what readers see, with no read back.
      const appended = nextExpectedRevision > lastRevision;
      const position =
        appended && result.position
          ? toPosition(result.position)
          : await positionAt(streamId, nextExpectedRevision);
      return { nextExpectedRevision, position, appended };
    } catch (error) {
      if (!isWrongExpectedVersion(error)) throw error;
      // With `any` there is no revision to be wrong about: EventStoreDB answers so when some of the
      // events were stored before and some not.
      if (expected === 'any') {
        throw new DuplicateEventIds(
          streamId,
          'some of these events were stored before: not a retry of one append',
        );
      }
      throw new WrongExpectedRevision(streamId, String(expected), describeActual(error));
    }
  };
};

type Comparison =
  { kind: 'none' } | { kind: 'same'; result: AppendResult } | { kind: 'partly'; matching: number };

/** Whether `stored` (the events at the revisions the append aimed at) are exactly these events, in order. */
export const compareWithStored = (events: NewEvent[], stored: EsdbRecordedEvent[]): Comparison => {
  const ours = new Set(events.map((event) => event.id));
  const matching = stored.filter((event) => ours.has(event.id)).length;
  if (matching === 0) return { kind: 'none' };
  const last = stored.at(-1);
  const same =
    last && stored.length === events.length && stored.every((event, index) => event.id === events[index]?.id);
  if (!same) return { kind: 'partly', matching };
  return {
    kind: 'same',
    result: { nextExpectedRevision: toRevision(last.revision), position: positionOf(last), appended: false },
  };
};

const partlyStored = (streamId: string, events: NewEvent[], matching: number) =>
  new DuplicateEventIds(
    streamId,
    `${matching} of ${events.length} events were stored before, at other revisions or with others: not a retry of one append`,
  );

const isWrongExpectedVersion = (error: unknown): error is Error & { actualVersion?: unknown } =>
  error instanceof Error && (error as { type?: unknown }).type === ErrorType.WRONG_EXPECTED_VERSION;

const describeActual = (error: { actualVersion?: unknown }): string =>
  typeof error.actualVersion === 'bigint' ? error.actualVersion.toString() : 'no_stream';
