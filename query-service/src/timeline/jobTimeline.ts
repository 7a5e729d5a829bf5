import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { JobView } from '@kiln/contracts/views';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import { jobsProjection } from '#src/projections/jobs.ts';
import { foldTimeline, viewOf } from '#src/timeline/foldTimeline.ts';
import { MAX_TIMELINE_EVENTS } from '@kiln/contracts/views/timeline';

/**
 * Every event of a job's stream with the job after it, folded by the jobs projection. Only its own
 * stream: the sessions it was added to are in theirs, so `sessionIds` stays empty here.
 */
export const jobTimelineOf = (jobId: string, events: readonly RecordedEvent<KilnEvent>[]) =>
  foldTimeline(events, [jobsProjection], {
    shown: () => true,
    stateOf: (docs) => viewOf<JobView>(docs({ collection: 'jobs', id: jobId })),
  });

export const readJobTimeline = async (store: EventStore<KilnEvent>, jobId: string) => {
  // One more than a timeline holds, so a longer stream is known to be cut.
  const events = await store.readStream(jobStreamId(jobId), { maxCount: MAX_TIMELINE_EVENTS + 1 });
  return jobTimelineOf(jobId, events);
};
