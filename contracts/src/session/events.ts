import { z } from 'zod';
import { defineEvent, EntityId } from '#src/envelope.ts';

export const SessionOpened = defineEvent(
  'SessionOpened',
  z.strictObject({ sessionId: EntityId, title: z.string().trim().min(1).max(200), ownerId: EntityId }),
);

/** An invite link was made. The link's token is a secret and lives outside the event store. */
export const SessionMemberInvited = defineEvent(
  'SessionMemberInvited',
  z.strictObject({
    sessionId: EntityId,
    inviteId: EntityId,
    invitedBy: EntityId,
    expiresAt: z.iso.datetime({ offset: true }),
  }),
);

export const SessionMemberJoined = defineEvent(
  'SessionMemberJoined',
  z.strictObject({
    sessionId: EntityId,
    userId: EntityId,
    displayName: z.string().max(100),
    inviteId: EntityId.optional(),
  }),
);

export const SessionMemberLeft = defineEvent(
  'SessionMemberLeft',
  z.strictObject({ sessionId: EntityId, userId: EntityId }),
);

export const SessionJobAdded = defineEvent(
  'SessionJobAdded',
  z.strictObject({ sessionId: EntityId, jobId: EntityId, addedBy: EntityId }),
);

export const SessionEvent = z.discriminatedUnion('type', [
  SessionOpened,
  SessionMemberInvited,
  SessionMemberJoined,
  SessionMemberLeft,
  SessionJobAdded,
]);
export type SessionEvent = z.infer<typeof SessionEvent>;
