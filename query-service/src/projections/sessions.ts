import type { SessionView } from '@kiln/contracts/views';
import {
  nothing,
  type Applied,
  type DocRef,
  type ProjectedDoc,
  type Projection,
} from '#src/projections/projection.ts';

export type SessionDoc = Omit<SessionView, 'position'> & { _id: string };
/** One person's membership of a session; leaving keeps the document, marked inactive. */
export type SessionMemberDoc = {
  _id: string;
  sessionId: string;
  userId: string;
  displayName: string;
  joinedAt: string;
  active: boolean;
};

export const memberDocId = (sessionId: string, userId: string): string => `${sessionId}/${userId}`;
const sessionRef = (sessionId: string): DocRef => ({ collection: 'sessions', id: sessionId });
const memberRef = (sessionId: string, userId: string): DocRef => ({
  collection: 'session_members',
  id: memberDocId(sessionId, userId),
});

type Stored<Doc> = (ProjectedDoc & Doc) | undefined;
const unstamped = <Doc extends object>(stored: Doc & { position: unknown }): Doc => {
  const { position: _position, ...doc } = stored;
  return doc as unknown as Doc;
};

/** Shared sessions with their jobs and member count, and their members one document each (paged). */
export const sessionsProjection: Projection = {
  name: 'sessions',
  collections: {
    sessions: { kind: 'folded', indexes: [] },
    session_members: {
      kind: 'folded',
      indexes: [
        { key: { sessionId: 1, active: 1, joinedAt: 1, _id: 1 } },
        { key: { userId: 1, active: 1, joinedAt: -1, _id: -1 } },
      ],
    },
  },
  touches: (event) => {
    switch (event.type) {
      case 'SessionOpened':
      case 'SessionJobAdded':
        return [sessionRef(event.data.sessionId)];
      case 'SessionMemberJoined':
      case 'SessionMemberLeft':
        return [memberRef(event.data.sessionId, event.data.userId), sessionRef(event.data.sessionId)];
      default:
        return [];
    }
  },
  apply: (event, current): Applied => {
    const at = event.metadata.at;
    if (event.type === 'SessionOpened') {
      const { sessionId, title, ownerId } = event.data;
      const doc: SessionDoc = {
        _id: sessionId,
        sessionId,
        title,
        ownerId,
        memberCount: 0,
        jobIds: [],
        openedAt: at,
        updatedAt: at,
      };
      return { folded: [{ ref: sessionRef(sessionId), doc }], appended: [] };
    }
    if (
      event.type !== 'SessionJobAdded' &&
      event.type !== 'SessionMemberJoined' &&
      event.type !== 'SessionMemberLeft'
    )
      return nothing;
    const ref = sessionRef(event.data.sessionId);
    const stored = current(ref) as Stored<SessionDoc>;
    if (!stored) return nothing;
    const session = unstamped<SessionDoc>(stored);
    if (event.type === 'SessionJobAdded') {
      if (session.jobIds.includes(event.data.jobId)) return nothing;
      return {
        folded: [{ ref, doc: { ...session, jobIds: [...session.jobIds, event.data.jobId], updatedAt: at } }],
        appended: [],
      };
    }
    const { sessionId, userId } = event.data;
    const membership = current(memberRef(sessionId, userId)) as Stored<SessionMemberDoc>;
    const wasMember = membership?.active === true;
    if (event.type === 'SessionMemberJoined') {
      const member: SessionMemberDoc = {
        _id: memberDocId(sessionId, userId),
        sessionId,
        userId,
        displayName: event.data.displayName,
        joinedAt: wasMember && membership ? membership.joinedAt : at,
        active: true,
      };
      const memberCount = session.memberCount + (wasMember ? 0 : 1);
      return {
        folded: [
          { ref: memberRef(sessionId, userId), doc: member },
          { ref, doc: { ...session, memberCount, updatedAt: at } },
        ],
        appended: [],
      };
    }
    if (!membership || !wasMember) return nothing;
    return {
      folded: [
        {
          ref: memberRef(sessionId, userId),
          doc: { ...unstamped<SessionMemberDoc>(membership), active: false },
        },
        { ref, doc: { ...session, memberCount: session.memberCount - 1, updatedAt: at } },
      ],
      appended: [],
    };
  },
};
