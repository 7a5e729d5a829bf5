import { Router } from 'express';
import { z } from 'zod';
import { EntityId } from '@kiln/contracts/envelope';
import { JobStatus } from '@kiln/contracts/views';
import { requireUser, userOf } from '@kiln/identity/http';
import { parseWith, sendOk } from '@kiln/service-kit/http';
import type { ReadModels } from '#src/readModels/collections.ts';
import { canSeeJob, notFound } from '#src/http/access.ts';
import { decodeCursor, encodeCursor, Limit } from '#src/http/paging.ts';

const JobsQuery = z.object({
  status: JobStatus.optional(),
  kind: z.enum(['image', 'video']).optional(),
  cursor: z.string().max(500).optional(),
  limit: Limit,
  after: z.string().optional(),
});
const JobCursor = z.tuple([z.string(), z.string()]);

const withoutId = <Doc extends { _id: unknown }>({ _id: _ignored, ...rest }: Doc) => rest;

/** My jobs page by page (filtered by status and kind), and one job with its artifacts. */
export const jobRoutes = (readModels: ReadModels): Router => {
  const router = Router();

  router.get('/v1/jobs', requireUser, async (req, res) => {
    const query = parseWith(JobsQuery, req.query, 'query');
    const user = userOf(res);
    const filter: Record<string, unknown> = { userId: user.id };
    if (query.status) filter['status'] = query.status;
    if (query.kind) filter['kind'] = query.kind;
    const cursor = decodeCursor(query.cursor, JobCursor);
    if (cursor) {
      const [requestedAt, jobId] = cursor;
      filter['$or'] = [{ requestedAt: { $lt: requestedAt } }, { requestedAt, _id: { $lt: jobId } }];
    }
    const jobs = await (
      await readModels.collection('jobs')
    )
      .find(filter)
      .sort({ requestedAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .toArray();
    const page = jobs.slice(0, query.limit);
    const last = page.at(-1);
    sendOk(res, {
      items: page.map(withoutId),
      next: jobs.length > query.limit && last ? encodeCursor([last.requestedAt, last._id]) : null,
    });
  });

  router.get('/v1/jobs/:jobId', requireUser, async (req, res) => {
    const { jobId } = parseWith(z.strictObject({ jobId: EntityId }), req.params, 'params');
    const job = await (await readModels.collection('jobs')).findOne({ _id: jobId });
    if (!job || !(await canSeeJob(readModels, userOf(res), job))) throw notFound('job');
    sendOk(res, withoutId(job));
  });
  return router;
};
