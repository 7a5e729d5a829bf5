import type { KilnEvent } from '@kiln/contracts/events';
import { comparePositions, type Position } from '@kiln/contracts/position';
import { jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import type { JobView, SessionView } from '@kiln/contracts/views';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import { jobsProjection } from '#src/projections/jobs.ts';
import { sessionsProjection } from '#src/projections/sessions.ts';
import { foldTimeline, viewOf } from '#src/timeline/foldTimeline.ts';
import {
  MAX_TIMELINE_EVENTS,
  MAX_TIMELINE_JOBS,
  type SessionTimelineState,
} from '@kiln/contracts/views/timeline';

type Event = RecordedEvent<KilnEvent>;

/** The jobs a session's stream adds, each with the position of its first `SessionJobAdded`, in order. */
export const jobsAddedIn = (sessionEvents: readonly Event[]): Array<[jobId: string, addedAt: Position]> => {
  const added = new Map<string, Position>();
  for (const event of sessionEvents)
    if (event.type === 'SessionJobAdded' && !added.has(event.data.jobId))
      added.set(event.data.jobId, event.position);
  return [...added];
};

const earliest = (positions: ReadonlyArray<Position | undefined>) =>
  positions.filter((position) => position !== undefined).sort(comparePositions)[0];

/**
 * A session's timeline: its own events, and each of its jobs' events after the job was added (the realtime
 * hub's session topic), in global order, with the session document and its jobs after each one. A job's
 * earlier events are folded too, unseen, so it joins the state as it was when added. It follows at most
 * MAX_TIMELINE_JOBS jobs and ends before the next one is added; a stream read only in part (more than
 * MAX_TIMELINE_EVENTS) ends it before its first event not read.
 */
export const sessionTimelineOf = (
  sessionId: string,
  sessionEvents: readonly Event[],
  jobStreams: ReadonlyMap<string, readonly Event[]>,
) => {
  const sessionStream = sessionStreamId(sessionId);
  const added = jobsAddedIn(sessionEvents);
  const followed = new Map(added.slice(0, MAX_TIMELINE_JOBS).map(([jobId, at]) => [jobStreamId(jobId), at]));
  const streams = [sessionEvents, ...[...followed.keys()].map((streamId) => jobStreams.get(streamId) ?? [])];
  const endsBefore = earliest([
    added[MAX_TIMELINE_JOBS]?.[1],
    ...streams.map((events) => events[MAX_TIMELINE_EVENTS]?.position),
  ]);
  const events = streams
    .flat()
    .filter((event) => endsBefore === undefined || event.position < endsBefore)
    .sort((a, b) => comparePositions(a.position, b.position));
  return foldTimeline<SessionTimelineState>(events, [sessionsProjection, jobsProjection], {
    shown: (event) => {
      if (event.streamId === sessionStream) return true;
      const addedAt = followed.get(event.streamId);
      return addedAt !== undefined && event.position > addedAt;
    },
    stateOf: (docs) => {
      const session = viewOf<SessionView>(docs({ collection: 'sessions', id: sessionId }));
      const jobs = (session?.jobIds ?? [])
        .map((jobId) => viewOf<JobView>(docs({ collection: 'jobs', id: jobId })))
        .filter((job) => job !== null);
      return { session, jobs };
    },
    cut: endsBefore !== undefined,
  });
};

export const readSessionTimeline = async (store: EventStore<KilnEvent>, sessionId: string) => {
  // One more than a timeline holds, so a longer stream is known to be read only in part.
  const maxCount = MAX_TIMELINE_EVENTS + 1;
  const sessionEvents = await store.readStream(sessionStreamId(sessionId), { maxCount });
  const jobIds = jobsAddedIn(sessionEvents)
    .slice(0, MAX_TIMELINE_JOBS)
    .map(([jobId]) => jobId);
  const jobStreams = new Map(
    await Promise.all(
      jobIds.map(async (jobId) => {
        const streamId = jobStreamId(jobId);
        return [streamId, await store.readStream(streamId, { maxCount })] as const;
      }),
    ),
  );
  return sessionTimelineOf(sessionId, sessionEvents, jobStreams);
};
