import type { EventBody } from '@kiln/contracts/envelope';
import type { SessionEvent } from '@kiln/contracts/session/events';

export type SessionEventBody = EventBody<SessionEvent>;

/** A shared session, folded from its `session-<sessionId>` stream. */
export type SessionState = {
  opened: boolean;
  ownerId: string | null;
  members: ReadonlySet<string>;
  jobs: ReadonlySet<string>;
  /** Invites by id, with when each stops working. */
  invites: ReadonlyMap<string, string>;
};

export const initialSessionState = (): SessionState => ({
  opened: false,
  ownerId: null,
  members: new Set(),
  jobs: new Set(),
  invites: new Map(),
});

export const evolveSession = (state: SessionState, event: SessionEventBody): SessionState => {
  switch (event.type) {
    case 'SessionOpened':
      return { ...state, opened: true, ownerId: event.data.ownerId };
    case 'SessionMemberInvited':
      return { ...state, invites: new Map(state.invites).set(event.data.inviteId, event.data.expiresAt) };
    case 'SessionMemberJoined':
      return { ...state, members: new Set(state.members).add(event.data.userId) };
    case 'SessionMemberLeft': {
      const members = new Set(state.members);
      members.delete(event.data.userId);
      return { ...state, members };
    }
    case 'SessionJobAdded':
      return { ...state, jobs: new Set(state.jobs).add(event.data.jobId) };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
};
