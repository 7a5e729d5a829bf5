import type { PublicUser } from '@kiln/contracts/accounts/http';
import { ApiProblem } from '@kiln/contracts/http/problem';
import type { JobView, SessionView } from '@kiln/contracts/views';
import { memberDocId } from '#src/projections/sessions.ts';
import type { ReadModels } from '#src/readModels/collections.ts';

/** What is not yours does not exist: a 404, never a 403 that would confirm it is there. */
export const notFound = (what: string) => new ApiProblem('not_found', `no such ${what}`);

export const isMemberOf = async (
  readModels: ReadModels,
  userId: string,
  sessionIds: readonly string[],
): Promise<boolean> => {
  if (sessionIds.length === 0) return false;
  const members = await readModels.collection('session_members');
  return (
    (await members.countDocuments({
      _id: { $in: sessionIds.map((sessionId) => memberDocId(sessionId, userId)) },
      active: true,
    })) > 0
  );
};

/** A job is seen by its owner, by members of a session it is in, and by admins. */
export const canSeeJob = async (
  readModels: ReadModels,
  user: PublicUser,
  job: Pick<JobView, 'userId' | 'sessionIds'>,
) =>
  user.role === 'admin' || job.userId === user.id || (await isMemberOf(readModels, user.id, job.sessionIds));

/** A session is seen by its owner, its members, and admins. */
export const canSeeSession = async (
  readModels: ReadModels,
  user: PublicUser,
  session: Pick<SessionView, 'sessionId' | 'ownerId'>,
) =>
  user.role === 'admin' ||
  session.ownerId === user.id ||
  (await isMemberOf(readModels, user.id, [session.sessionId]));

/** An account's ledger, balance, audit and replay are its owner's, and admins'. */
export const requireAccountAccess = (user: PublicUser, accountId: string) => {
  if (user.role !== 'admin' && user.accountId !== accountId) throw notFound('account');
};
