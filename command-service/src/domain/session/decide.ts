import type { Decider } from '#src/domain/decider.ts';
import { DomainError, ruleBroken } from '#src/domain/errors.ts';
import {
  evolveSession,
  initialSessionState,
  type SessionEventBody,
  type SessionState,
} from '#src/domain/session/state.ts';

export type SessionCommand =
  | { type: 'OpenSession'; data: { sessionId: string; title: string; ownerId: string; ownerName: string } }
  | {
      type: 'InviteMember';
      data: { sessionId: string; inviteId: string; invitedBy: string; expiresAt: string };
    }
  | {
      type: 'JoinSession';
      data: { sessionId: string; userId: string; displayName: string; inviteId: string; now: string };
    }
  | { type: 'LeaveSession'; data: { sessionId: string; userId: string } }
  | { type: 'AddJob'; data: { sessionId: string; jobId: string; addedBy: string } };

const requireMember = (state: SessionState, userId: string, doing: string) => {
  if (!state.opened) throw new DomainError('not_found', 'no such session');
  if (!state.members.has(userId))
    throw new DomainError('forbidden', `only members of the session can ${doing}`);
};

/** Shared sessions: members invite by link, join with a valid invite, leave, and add their jobs. */
export const decideSession = (command: SessionCommand, state: SessionState): SessionEventBody[] => {
  const { data } = command;
  switch (command.type) {
    case 'OpenSession': {
      if (state.opened) {
        if (state.ownerId === command.data.ownerId) return [];
        throw ruleBroken(`session ${data.sessionId} already exists`);
      }
      const { sessionId, title, ownerId, ownerName } = command.data;
      return [
        { type: 'SessionOpened', data: { sessionId, title, ownerId } },
        { type: 'SessionMemberJoined', data: { sessionId, userId: ownerId, displayName: ownerName } },
      ];
    }
    case 'InviteMember':
      requireMember(state, command.data.invitedBy, 'invite');
      if (state.invites.has(command.data.inviteId)) return [];
      return [{ type: 'SessionMemberInvited', data: command.data }];

    case 'JoinSession': {
      if (!state.opened) throw new DomainError('not_found', 'no such session');
      if (state.members.has(command.data.userId)) return [];
      const expiresAt = state.invites.get(command.data.inviteId);
      if (expiresAt === undefined) throw new DomainError('forbidden', 'this invite is not for this session');
      if (Date.parse(command.data.now) >= Date.parse(expiresAt))
        throw new DomainError('forbidden', 'this invite has expired');
      const { sessionId, userId, displayName, inviteId } = command.data;
      return [{ type: 'SessionMemberJoined', data: { sessionId, userId, displayName, inviteId } }];
    }
    case 'LeaveSession':
      if (!state.opened) throw new DomainError('not_found', 'no such session');
      if (!state.members.has(command.data.userId)) return [];
      return [{ type: 'SessionMemberLeft', data: command.data }];

    case 'AddJob':
      requireMember(state, command.data.addedBy, 'add jobs');
      if (state.jobs.has(command.data.jobId)) return [];
      return [{ type: 'SessionJobAdded', data: command.data }];

    default: {
      const _exhaustive: never = command;
      throw ruleBroken('unknown session command');
    }
  }
};

export const sessionDecider: Decider<SessionCommand, SessionEventBody, SessionState> = {
  decide: decideSession,
  evolve: evolveSession,
  initialState: initialSessionState,
};
