import { Router } from 'express';
import { z } from 'zod';
import { EntityId } from '@kiln/contracts/envelope';
import { requireUser, userOf } from '@kiln/identity/http';
import { parseWith, sendOk } from '@kiln/service-kit/http';
import type { ReadModels } from '#src/readModels/collections.ts';
import { canSeeSession, notFound } from '#src/http/access.ts';
import { decodeCursor, encodeCursor, Limit } from '#src/http/paging.ts';
import type { MySessionsPage } from '@kiln/contracts/views/session-list';

const PageQuery = z.object({
  cursor: z.string().max(500).optional(),
  limit: Limit,
  after: z.string().optional(),
});
const MemberCursor = z.tuple([z.string(), z.string()]);
const sessionParams = z.strictObject({ sessionId: EntityId });

const withoutId = <Doc extends { _id: unknown }>({ _id: _ignored, ...rest }: Doc) => rest;

/** The sessions I am a member of, one session with its jobs, a session's members page by page. */
export const sessionRoutes = (readModels: ReadModels): Router => {
  const router = Router();

  const visibleSession = async (sessionId: string, user: Parameters<typeof canSeeSession>[1]) => {
    const session = await (await readModels.collection('sessions')).findOne({ _id: sessionId });
    if (!session || !(await canSeeSession(readModels, user, session))) throw notFound('session');
    return session;
  };

  router.get('/v1/sessions', requireUser, async (req, res) => {
    const query = parseWith(PageQuery, req.query, 'query');
    const filter: Record<string, unknown> = { userId: userOf(res).id, active: true };
    const cursor = decodeCursor(query.cursor, MemberCursor);
    if (cursor)
      filter['$or'] = [{ joinedAt: { $lt: cursor[0] } }, { joinedAt: cursor[0], _id: { $lt: cursor[1] } }];
    const memberships = await (
      await readModels.collection('session_members')
    )
      .find(filter)
      .sort({ joinedAt: -1, _id: -1 })
      .limit(query.limit + 1)
      .toArray();
    const page = memberships.slice(0, query.limit);
    const sessions = await (
      await readModels.collection('sessions')
    )
      .find({ _id: { $in: page.map((membership) => membership.sessionId) } })
      .toArray();
    const byId = new Map(sessions.map((session) => [session._id, withoutId(session)]));
    const last = page.at(-1);
    const answer: MySessionsPage = {
      items: page.flatMap(({ sessionId, joinedAt }) => {
        const session = byId.get(sessionId);
        return session ? [{ ...session, joinedAt }] : [];
      }),
      next: memberships.length > query.limit && last ? encodeCursor([last.joinedAt, last._id]) : null,
    };
    sendOk(res, answer);
  });

  router.get('/v1/sessions/:sessionId', requireUser, async (req, res) => {
    const { sessionId } = parseWith(sessionParams, req.params, 'params');
    const session = await visibleSession(sessionId, userOf(res));
    const jobs = await (
      await readModels.collection('jobs')
    )
      .find({ sessionIds: sessionId })
      .sort({ requestedAt: -1, _id: -1 })
      .limit(200)
      .toArray();
    sendOk(res, { ...withoutId(session), jobs: jobs.map(withoutId) });
  });

  router.get('/v1/sessions/:sessionId/members', requireUser, async (req, res) => {
    const { sessionId } = parseWith(sessionParams, req.params, 'params');
    const query = parseWith(PageQuery, req.query, 'query');
    await visibleSession(sessionId, userOf(res));
    const filter: Record<string, unknown> = { sessionId, active: true };
    const cursor = decodeCursor(query.cursor, MemberCursor);
    if (cursor)
      filter['$or'] = [{ joinedAt: { $gt: cursor[0] } }, { joinedAt: cursor[0], _id: { $gt: cursor[1] } }];
    const members = await (
      await readModels.collection('session_members')
    )
      .find(filter)
      .sort({ joinedAt: 1, _id: 1 })
      .limit(query.limit + 1)
      .toArray();
    const page = members.slice(0, query.limit);
    const last = page.at(-1);
    sendOk(res, {
      items: page.map(({ userId, displayName, joinedAt }) => ({ userId, displayName, joinedAt })),
      next: members.length > query.limit && last ? encodeCursor([last.joinedAt, last._id]) : null,
    });
  });
  return router;
};
