import { Router } from 'express';
import { z } from 'zod';
import { EntityId } from '@kiln/contracts/envelope';
import type { KilnEvent } from '@kiln/contracts/events';
import { Position } from '@kiln/contracts/position';
import type { EventStore } from '@kiln/event-store/port';
import { requireUser, userOf } from '@kiln/identity/http';
import { parseWith, sendOk } from '@kiln/service-kit/http';
import type { ReadModels } from '#src/readModels/collections.ts';
import { canSeeJob, canSeeSession, notFound } from '#src/http/access.ts';
import { decodeCursor, encodeCursor } from '#src/http/paging.ts';
import type { Timeline } from '#src/timeline/foldTimeline.ts';
import { readJobTimeline } from '#src/timeline/jobTimeline.ts';
import { readSessionTimeline } from '#src/timeline/sessionTimeline.ts';
import {
  MAX_TIMELINE_PAGE,
  type JobTimelinePage,
  type SessionTimelinePage,
} from '@kiln/contracts/views/timeline';

const TimelineQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_TIMELINE_PAGE).default(20),
  after: z.string().optional(),
});
type TimelineQuery = z.infer<typeof TimelineQuery>;

/** The page of a timeline after the cursor's entry (the position of the last one it gave). */
const pageOf = <State>({ entries, truncated }: Timeline<State>, query: TimelineQuery) => {
  const from = decodeCursor(query.cursor, Position);
  const rest = from === undefined ? entries : entries.filter((entry) => entry.event.position > from);
  const items = rest.slice(0, query.limit);
  const last = items.at(-1);
  return {
    items,
    next: rest.length > query.limit && last ? encodeCursor(last.event.position) : null,
    total: entries.length,
    truncated,
  };
};

/**
 * A job's or a session's every event with the state after it, folded from the event store by the
 * projections' own code, so a person can scrub through what happened. Seen by those who see the job or
 * the session (from the read models: `?after=` makes sure a new one is there).
 */
export const timelineRoutes = (store: EventStore<KilnEvent>, readModels: ReadModels): Router => {
  const router = Router();

  router.get('/v1/jobs/:jobId/timeline', requireUser, async (req, res) => {
    const { jobId } = parseWith(z.strictObject({ jobId: EntityId }), req.params, 'params');
    const query = parseWith(TimelineQuery, req.query, 'query');
    const job = await (await readModels.collection('jobs')).findOne({ _id: jobId });
    if (!job || !(await canSeeJob(readModels, userOf(res), job))) throw notFound('job');
    const answer: JobTimelinePage = pageOf(await readJobTimeline(store, jobId), query);
    sendOk(res, answer);
  });

  router.get('/v1/sessions/:sessionId/timeline', requireUser, async (req, res) => {
    const { sessionId } = parseWith(z.strictObject({ sessionId: EntityId }), req.params, 'params');
    const query = parseWith(TimelineQuery, req.query, 'query');
    const session = await (await readModels.collection('sessions')).findOne({ _id: sessionId });
    if (!session || !(await canSeeSession(readModels, userOf(res), session))) throw notFound('session');
    const answer: SessionTimelinePage = pageOf(await readSessionTimeline(store, sessionId), query);
    sendOk(res, answer);
  });
  return router;
};
