import { z } from 'zod';
import { EntityId } from '#src/envelope.ts';
import { GenerationRequest, InputFile, MAX_INPUT_FILES } from '#src/job/request.ts';
import { Position } from '#src/position.ts';

/** `POST /v1/jobs` (with an `Idempotency-Key` header). The price is never sent: Kiln computes it. */
export const RequestJobBody = z.strictObject({
  request: GenerationRequest,
  /** Files uploaded first with `POST /v1/uploads`. */
  inputFileIds: z.array(EntityId).max(MAX_INPUT_FILES).optional(),
  /** A shared session to add the job to (you must be a member). */
  sessionId: EntityId.optional(),
});
export type RequestJobBody = z.infer<typeof RequestJobBody>;

export const JobAccepted = z.strictObject({
  jobId: EntityId,
  status: z.literal('requested'),
  cost: z.int().positive(),
  deadline: z.iso.datetime({ offset: true }),
  /** Read your own write: wait for this position with the query API's `?after=`. */
  position: Position,
});
export type JobAccepted = z.infer<typeof JobAccepted>;

export const CancelJobBody = z.strictObject({ reason: z.string().trim().max(500).optional() });

export const JobCancelAccepted = z.strictObject({
  jobId: EntityId,
  status: z.enum(['cancel_requested', 'canceled']),
  position: Position.nullable(),
});

export const UploadedFiles = z.strictObject({ files: z.array(InputFile) });
