import { z } from 'zod';
import { EntityId } from '#src/envelope.ts';
import { Position } from '#src/position.ts';

/** Where the change landed in `$all` (for `?after=` reads); null when it had happened before (a retry). */
const ChangedAt = Position.nullable();

export const OpenSessionBody = z.strictObject({ title: z.string().trim().min(1).max(200) });
export const SessionOpenedAnswer = z.strictObject({ sessionId: EntityId, position: ChangedAt });

export const InviteCreated = z.strictObject({
  inviteId: EntityId,
  /** The secret part of the invite link; shown once. */
  token: z.string(),
  expiresAt: z.iso.datetime({ offset: true }),
});

export const JoinSessionBody = z.strictObject({ token: z.string().min(10).max(200) });
export const SessionJoined = z.strictObject({ sessionId: EntityId, position: ChangedAt });

export const AddJobToSessionBody = z.strictObject({ jobId: EntityId });
export const JobAddedToSession = z.strictObject({
  sessionId: EntityId,
  jobId: EntityId,
  position: ChangedAt,
});
