import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import { billingStreamId, jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import type { EncodedEvent, EventStore, RecordedEvent, RevisionRange } from '@kiln/event-store/port';
import type { ResolvedTopic } from '#src/topics/access.ts';

type Event = RecordedEvent<KilnEvent>;

/** Events a catch-up reads at a time, and sends as one message. */
export const CATCH_UP_BATCH = 500;

/**
 * A topic's events up to the head, counted before they are read, then read and handed over a batch at
 * a time (the next batch is read while the last one goes out), so a long history costs a batch of memory.
 * Each event comes as the JSON text clients get: a catch-up relays events, it does not look into them.
 */
export type CatchUp = { count: number; batches: AsyncIterable<EncodedEvent[]> | Iterable<EncodedEvent[]> };

/** Where each of the topic's streams starts: after the client's position, or after what a state holds. */
export type StartOf = (streamId: string) => Position | null;

/** Which events belong to a topic: what catch-up reads from the store, and how live events are matched. */
export type TopicEvents = {
  /** The topic's events after where each stream starts and up to `head`, in global order. */
  catchUp(startOf: StartOf, head: Position | null): Promise<CatchUp>;
  /** Matches the live events after `head`, in order (a session learns of its new jobs as they come). */
  liveMatcher(): (event: Event) => boolean;
  /** Whether a live event could be the topic's at all: what a subscription holds while it catches up. */
  mayMatch(event: Event): boolean;
};

const encoded = (event: Event): EncodedEvent => ({
  position: event.position,
  revision: event.revision,
  json: JSON.stringify(event),
});

const inBatches = function* (events: Event[]) {
  for (let from = 0; from < events.length; from += CATCH_UP_BATCH)
    yield events.slice(from, from + CATCH_UP_BATCH).map(encoded);
};

const nothing = (): CatchUp => ({ count: 0, batches: inBatches([]) });

/** Batches read from the store while the one before goes out: the store works while the hub sends. */
const READ_AHEAD = 2;

/** The stream changed under a catch-up (an event missing from a range of revisions that all existed). */
export class CatchUpBroken extends Error {}

/**
 * A stream's events from `first` to `last` revision, a batch at a time, the next ones read ahead of their
 * turn. Revisions are gapless and all of these exist (`last` is at or before the head), so every batch
 * asked for is known in advance; one that comes back short ends the catch-up with an error.
 */
const streamBatches = async function* (store: EventStore<KilnEvent>, streamId: string, range: RevisionRange) {
  const reads: { count: number; reading: Promise<EncodedEvent[]> }[] = [];
  let next = range.first;
  const readAhead = () => {
    while (reads.length < READ_AHEAD && next <= range.last) {
      const count = Math.min(CATCH_UP_BATCH, range.last - next + 1);
      const reading = store.readStreamEncoded(streamId, { fromRevision: next, maxCount: count });
      // It may never be awaited (the client left): its failure must not go unhandled.
      reading.catch(() => undefined);
      reads.push({ count, reading });
      next += count;
    }
  };
  readAhead();
  for (let read = reads.shift(); read; read = reads.shift()) {
    const batch = await read.reading;
    if (batch.length !== read.count)
      throw new CatchUpBroken(`${streamId} gave ${batch.length} of ${read.count} events asked for`);
    readAhead();
    yield batch;
  }
};

const within = (after: Position | null, head: Position | null) => (event: Event) =>
  (after === null || event.position > after) && head !== null && event.position <= head;

const oneStream = (store: EventStore<KilnEvent>, streamId: string): TopicEvents => ({
  catchUp: async (startOf, head) => {
    if (head === null) return nothing();
    const range = await store.revisionRange(streamId, { after: startOf(streamId) ?? undefined, upTo: head });
    return range
      ? { count: range.last - range.first + 1, batches: streamBatches(store, streamId, range) }
      : nothing();
  },
  liveMatcher: () => (event) => event.streamId === streamId,
  mayMatch: (event) => event.streamId === streamId,
});

/**
 * A session's topic: its own events, and each of its jobs' events from the moment the job was added (a
 * client learns of a job by its `SessionJobAdded`, then follows it). Read stream by stream, not from
 * `$all`, so a resume from an old position costs what the session holds, not what the store holds.
 */
const sessionEvents = (store: EventStore<KilnEvent>, sessionId: string): TopicEvents => {
  const sessionStream = sessionStreamId(sessionId);
  const jobsAdded = new Map<string, Position>();
  return {
    catchUp: async (startOf, head) => {
      const own = (await store.readStream(sessionStream)).filter(
        (event) => head !== null && event.position <= head,
      );
      for (const event of own) {
        if (event.type === 'SessionJobAdded' && !jobsAdded.has(jobStreamId(event.data.jobId)))
          jobsAdded.set(jobStreamId(event.data.jobId), event.position);
      }
      const jobs = await Promise.all(
        [...jobsAdded].map(async ([streamId, addedAt]) =>
          (await store.readStream(streamId)).filter((event) => event.position > addedAt),
        ),
      );
      const events = [...own, ...jobs.flat()]
        .filter((event) => within(startOf(event.streamId), head)(event))
        .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
      return { count: events.length, batches: inBatches(events) };
    },
    liveMatcher: () => {
      const following = new Set(jobsAdded.keys());
      return (event) => {
        if (event.streamId === sessionStream) {
          if (event.type === 'SessionJobAdded') following.add(jobStreamId(event.data.jobId));
          return true;
        }
        return following.has(event.streamId);
      };
    },
    // Any job may be added to the session while it catches up: its events are held too.
    mayMatch: (event) => event.streamId === sessionStream || event.streamId.startsWith('job-'),
  };
};

export const topicEvents = (store: EventStore<KilnEvent>, topic: ResolvedTopic): TopicEvents => {
  switch (topic.kind) {
    case 'job':
      return oneStream(store, jobStreamId(topic.jobId));
    case 'account':
      return oneStream(store, billingStreamId(topic.accountId));
    case 'session':
      return sessionEvents(store, topic.sessionId);
  }
};
