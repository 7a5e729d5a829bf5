import { describe, expect, it } from 'vitest';
import { DomainError } from '#src/domain/errors.ts';
import { decideSession, type SessionCommand } from '#src/domain/session/decide.ts';
import {
  evolveSession,
  initialSessionState,
  type SessionEventBody,
  type SessionState,
} from '#src/domain/session/state.ts';
import { deciderSpecification } from '#src/testing/deciderSpecification.ts';

const { given } = deciderSpecification<SessionCommand, SessionEventBody, SessionState>({
  decide: decideSession,
  evolve: evolveSession,
  initialState: initialSessionState,
});

const sessionId = 's1';
const opened: SessionEventBody[] = [
  { type: 'SessionOpened', data: { sessionId, title: 'Moodboard', ownerId: 'owner' } },
  { type: 'SessionMemberJoined', data: { sessionId, userId: 'owner', displayName: 'Olga' } },
];
const invited: SessionEventBody = {
  type: 'SessionMemberInvited',
  data: { sessionId, inviteId: 'inv1', invitedBy: 'owner', expiresAt: '2026-11-24T00:00:00.000Z' },
};
const join = (now: string, inviteId = 'inv1'): SessionCommand => ({
  type: 'JoinSession',
  data: { sessionId, userId: 'guest', displayName: 'Gus', inviteId, now },
});
const joined: SessionEventBody = {
  type: 'SessionMemberJoined',
  data: { sessionId, userId: 'guest', displayName: 'Gus', inviteId: 'inv1' },
};
const refusedWith = (code: string) => (error: unknown) => {
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
};

describe('shared session', () => {
  it('opens with its owner as the first member', () => {
    given([])
      .when({
        type: 'OpenSession',
        data: { sessionId, title: 'Moodboard', ownerId: 'owner', ownerName: 'Olga' },
      })
      .then(opened);
  });

  it('opens once: its owner opening it again changes nothing, anyone else is refused', () => {
    const open = (ownerId: string): SessionCommand => ({
      type: 'OpenSession',
      data: { sessionId, title: 'Moodboard', ownerId, ownerName: 'Olga' },
    });
    given(opened).when(open('owner')).thenNothing();
    given(opened).when(open('someone-else')).thenThrows(refusedWith('rule_broken'));
  });

  it('knows no session that was never opened: joining or leaving one is not found', () => {
    given([]).when(join('2026-11-23T10:00:00.000Z')).thenThrows(refusedWith('not_found'));
    given([])
      .when({ type: 'LeaveSession', data: { sessionId, userId: 'guest' } })
      .thenThrows(refusedWith('not_found'));
    given([]).when({ type: 'InviteMember', data: invited.data }).thenThrows(refusedWith('not_found'));
  });

  it('lets members invite, and invited people join until the invite expires', () => {
    given(opened).when({ type: 'InviteMember', data: invited.data }).then([invited]);
    given([...opened, invited])
      .when(join('2026-11-23T10:00:00.000Z'))
      .then([joined]);
    given([...opened, invited, joined])
      .when(join('2026-11-23T10:00:00.000Z'))
      .thenNothing();
    given([...opened, invited])
      .when(join('2026-11-24T00:00:00.000Z'))
      .thenThrows(refusedWith('forbidden'));
    given([...opened, invited])
      .when(join('2026-11-23T10:00:00.000Z', 'other'))
      .thenThrows(refusedWith('forbidden'));
    given(opened)
      .when({ type: 'InviteMember', data: { ...invited.data, invitedBy: 'stranger' } })
      .thenThrows(refusedWith('forbidden'));
  });

  it('lets members leave, and only members add jobs', () => {
    given([...opened, invited, joined])
      .when({ type: 'LeaveSession', data: { sessionId, userId: 'guest' } })
      .then([{ type: 'SessionMemberLeft', data: { sessionId, userId: 'guest' } }]);
    given([...opened, invited, joined])
      .when({ type: 'AddJob', data: { sessionId, jobId: 'j1', addedBy: 'guest' } })
      .then([{ type: 'SessionJobAdded', data: { sessionId, jobId: 'j1', addedBy: 'guest' } }]);
    given(opened)
      .when({ type: 'AddJob', data: { sessionId, jobId: 'j1', addedBy: 'guest' } })
      .thenThrows(refusedWith('forbidden'));
    given([])
      .when({ type: 'AddJob', data: { sessionId, jobId: 'j1', addedBy: 'owner' } })
      .thenThrows(refusedWith('not_found'));
  });
});
