import { randomUUID } from 'node:crypto';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';
import type { InviteStore } from '#src/adapters/inviteStore.ts';
import type { CommandContext, CommandHandler } from '#src/app/commandHandler.ts';
import { readState } from '#src/app/readState.ts';
import { DomainError } from '#src/domain/errors.ts';
import { jobDecider } from '#src/domain/job/decide.ts';
import { sessionDecider } from '#src/domain/session/decide.ts';

export type Member = { userId: string; displayName: string };

const INVITE_LIFETIME_MS = 7 * 24 * 60 * 60 * 1000;

/** Shared sessions: open, invite by link, join by the link's token, leave, add a job. */
export const createSessions = (deps: {
  handle: CommandHandler;
  store: EventStore<KilnEvent>;
  invites: InviteStore;
}) => ({
  open: async (owner: Member, title: string, context: CommandContext) => {
    const sessionId = `s_${randomUUID().replaceAll('-', '')}`;
    const { position } = await deps.handle(
      sessionDecider,
      sessionStreamId(sessionId),
      {
        type: 'OpenSession',
        data: { sessionId, title, ownerId: owner.userId, ownerName: owner.displayName },
      },
      context,
    );
    return { sessionId, position };
  },

  invite: async (member: Member, sessionId: string, context: CommandContext) => {
    const inviteId = `i_${randomUUID().replaceAll('-', '')}`;
    const expiresAt = new Date(context.now.getTime() + INVITE_LIFETIME_MS);
    await deps.handle(
      sessionDecider,
      sessionStreamId(sessionId),
      {
        type: 'InviteMember',
        data: { sessionId, inviteId, invitedBy: member.userId, expiresAt: expiresAt.toISOString() },
      },
      context,
    );
    const token = await deps.invites.create(sessionId, inviteId, expiresAt);
    return { inviteId, token, expiresAt: expiresAt.toISOString() };
  },

  join: async (member: Member, token: string, context: CommandContext) => {
    const invite = await deps.invites.find(token);
    if (!invite) throw new DomainError('not_found', 'this invite link is not valid');
    const { position } = await deps.handle(
      sessionDecider,
      sessionStreamId(invite.sessionId),
      {
        type: 'JoinSession',
        data: {
          sessionId: invite.sessionId,
          userId: member.userId,
          displayName: member.displayName,
          inviteId: invite.inviteId,
          now: context.now.toISOString(),
        },
      },
      context,
    );
    return { sessionId: invite.sessionId, position };
  },

  leave: async (member: Member, sessionId: string, context: CommandContext) => {
    const { position } = await deps.handle(
      sessionDecider,
      sessionStreamId(sessionId),
      { type: 'LeaveSession', data: { sessionId, userId: member.userId } },
      context,
    );
    return { sessionId, position };
  },

  addJob: async (member: Member, sessionId: string, jobId: string, context: CommandContext) => {
    const job = await readState(deps.store, jobDecider, jobStreamId(jobId));
    if (job.status === 'none' || job.userId !== member.userId)
      throw new DomainError('not_found', 'no such job of yours');
    const { position } = await deps.handle(
      sessionDecider,
      sessionStreamId(sessionId),
      { type: 'AddJob', data: { sessionId, jobId, addedBy: member.userId } },
      context,
    );
    return { sessionId, jobId, position };
  },
});

export type Sessions = ReturnType<typeof createSessions>;
