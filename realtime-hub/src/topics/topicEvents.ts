import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import { billingStreamId, jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import type { ResolvedTopic } from '#src/topics/access.ts';

type Event = RecordedEvent<KilnEvent>;

/** Which events belong to a topic: what catch-up reads from the store, and how live events are matched. */
export type TopicEvents = {
  /** The topic's events after `after` (all without it) and up to `head`, in global order. */
  catchUp(after: Position | null, head: Position | null): Promise<Event[]>;
  /** Matches the live events after `head`, in order (a session learns of its new jobs as they come). */
  liveMatcher(): (event: Event) => boolean;
  /** Whether a live event could be the topic's at all: what a subscription holds while it catches up. */
  mayMatch(event: Event): boolean;
};

const within = (after: Position | null, head: Position | null) => (event: Event) =>
  (after === null || event.position > after) && head !== null && event.position <= head;

const oneStream = (store: EventStore<KilnEvent>, streamId: string): TopicEvents => ({
  catchUp: async (after, head) => (await store.readStream(streamId)).filter(within(after, head)),
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
    catchUp: async (after, head) => {
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
      return [...own, ...jobs.flat()]
        .filter(within(after, head))
        .sort((a, b) => (a.position < b.position ? -1 : a.position > b.position ? 1 : 0));
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
