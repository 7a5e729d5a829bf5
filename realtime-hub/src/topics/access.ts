import type { PublicUser } from '@kiln/contracts/accounts/http';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Topic } from '@kiln/contracts/realtime';
import { jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';
import type { ReadModels } from '@kiln/query-service/read-models';
import { memberDocId } from '@kiln/query-service/projections/sessions';

/** A subscription the hub will not open, and why (sent back to the client). */
export class SubscriptionRefused extends Error {
  readonly code: 'forbidden' | 'not_found';
  constructor(code: 'forbidden' | 'not_found', message: string) {
    super(message);
    this.name = 'SubscriptionRefused';
    this.code = code;
  }
}

/** Members of a session now, folded from its stream (the truth, never behind like a read model). */
export const sessionMembers = async (store: EventStore<KilnEvent>, sessionId: string) => {
  const events = await store.readStream(sessionStreamId(sessionId));
  const members = new Set<string>();
  for (const event of events) {
    if (event.type === 'SessionMemberJoined') members.add(event.data.userId);
    if (event.type === 'SessionMemberLeft') members.delete(event.data.userId);
  }
  return { exists: events.length > 0, members };
};

/** The topic with its account filled in: a subscription to "my account" names it. */
export type ResolvedTopic =
  | { kind: 'job'; jobId: string }
  | { kind: 'session'; sessionId: string }
  | { kind: 'account'; accountId: string };

/**
 * Who may watch what: a job by its owner and by members of a session it is in; a session by its members;
 * an account by its owner. Admins may watch anything. What is not yours and what does not exist are
 * told apart only for things you may see.
 */
export const authorize = async (
  deps: { store: EventStore<KilnEvent>; readModels: ReadModels },
  user: PublicUser,
  topic: Topic,
): Promise<ResolvedTopic> => {
  const admin = user.role === 'admin';
  switch (topic.kind) {
    case 'account': {
      const accountId = topic.accountId ?? user.accountId;
      if (accountId !== user.accountId && !admin)
        throw new SubscriptionRefused('forbidden', 'you may watch only your own account');
      return { kind: 'account', accountId };
    }
    case 'session': {
      const { exists, members } = await sessionMembers(deps.store, topic.sessionId);
      if (!exists) throw new SubscriptionRefused('not_found', 'there is no such session');
      if (!members.has(user.id) && !admin)
        throw new SubscriptionRefused('forbidden', 'you are not a member of this session');
      return topic;
    }
    case 'job': {
      const [requested] = await deps.store.readStream(jobStreamId(topic.jobId), { maxCount: 1 });
      if (requested?.type !== 'JobRequested')
        throw new SubscriptionRefused('not_found', 'there is no such job');
      if (requested.data.userId === user.id || admin) return topic;
      const job = await (await deps.readModels.collection('jobs')).findOne({ _id: topic.jobId });
      const sessionIds = job?.sessionIds ?? [];
      const memberships = await (
        await deps.readModels.collection('session_members')
      ).countDocuments({
        _id: { $in: sessionIds.map((sessionId) => memberDocId(sessionId, user.id)) },
        active: true,
      });
      if (memberships > 0) return topic;
      throw new SubscriptionRefused(
        'forbidden',
        'this job is neither yours nor in a session you are a member of',
      );
    }
  }
};

/** The channel a topic's events come under: the same for everyone watching it. */
export const channelOf = (topic: ResolvedTopic): string =>
  topic.kind === 'job'
    ? `job:${topic.jobId}`
    : topic.kind === 'session'
      ? `session:${topic.sessionId}`
      : `account:${topic.accountId}`;
