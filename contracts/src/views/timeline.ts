import { z } from 'zod';
import { DeliveredEvent } from '#src/realtime/messages.ts';
import { JobView, SessionView } from '#src/views/readModels.ts';

/** A timeline covers at most the first this many events of its streams; `truncated` says it was cut. */
export const MAX_TIMELINE_EVENTS = 5_000;
/** A session's timeline follows at most its first this many jobs; it ends before the next one is added. */
export const MAX_TIMELINE_JOBS = 50;
/** Entries in one page of a timeline (each carries a whole state). */
export const MAX_TIMELINE_PAGE = 50;

/** One event of a job's stream and the job as it was right after it (null only before it was requested). */
export const JobTimelineEntry = z.strictObject({ event: DeliveredEvent, state: JobView.nullable() });
export type JobTimelineEntry = z.infer<typeof JobTimelineEntry>;

/** A session as it was at one moment: its document and each job added to it so far, in the order added. */
export const SessionTimelineState = z.strictObject({
  session: SessionView.nullable(),
  jobs: z.array(JobView),
});
export type SessionTimelineState = z.infer<typeof SessionTimelineState>;

/** One event of a session's stream, or of one of its jobs after it was added, and the session after it. */
export const SessionTimelineEntry = z.strictObject({ event: DeliveredEvent, state: SessionTimelineState });
export type SessionTimelineEntry = z.infer<typeof SessionTimelineEntry>;

/**
 * A page of a timeline, in global order: `next` is the cursor of the page after (null at the end),
 * `total` how many entries the whole timeline has, `truncated` whether it stopped at a limit above.
 */
const timelinePageOf = <Entry extends z.ZodType>(entry: Entry) =>
  z.strictObject({
    items: z.array(entry),
    next: z.string().nullable(),
    total: z.int().nonnegative(),
    truncated: z.boolean(),
  });

export const JobTimelinePage = timelinePageOf(JobTimelineEntry);
export type JobTimelinePage = z.infer<typeof JobTimelinePage>;
export const SessionTimelinePage = timelinePageOf(SessionTimelineEntry);
export type SessionTimelinePage = z.infer<typeof SessionTimelinePage>;
