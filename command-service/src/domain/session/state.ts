import { Map as PersistentMap, Set as PersistentSet } from 'immutable';
import type { EventBody } from '@kiln/contracts/envelope';
import type { SessionEvent } from '@kiln/contracts/session/events';

export type SessionEventBody = EventBody<SessionEvent>;

/** A shared session, folded from its `session-<sessionId>` stream (persistent collections, as billing's). */
export type SessionState = {
  opened: boolean;
  ownerId: string | null;
  members: PersistentSet<string>;
  jobs: PersistentSet<string>;
  /** Invites by id, with when each stops working. */
  invites: PersistentMap<string, string>;
};

export const initialSessionState = (): SessionState => ({
  opened: false,
  ownerId: null,
  members: PersistentSet(),
  jobs: PersistentSet(),
  invites: PersistentMap(),
});

export const evolveSession = (state: SessionState, event: SessionEventBody): SessionState => {
  switch (event.type) {
    case 'SessionOpened':
      return { ...state, opened: true, ownerId: event.data.ownerId };
    case 'SessionMemberInvited':
      return { ...state, invites: state.invites.set(event.data.inviteId, event.data.expiresAt) };
    case 'SessionMemberJoined':
      return { ...state, members: state.members.add(event.data.userId) };
    case 'SessionMemberLeft':
      return { ...state, members: state.members.delete(event.data.userId) };
    case 'SessionJobAdded':
      return { ...state, jobs: state.jobs.add(event.data.jobId) };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
};
