import { z } from 'zod';

/**
 * The local provider's HTTP API, shared by its server and Kiln's adapter for it. Shaped like a hosted
 * queue API: POST /jobs (with `Idempotency-Key`), GET /jobs/:id, POST /jobs/:id/cancel, GET /outputs/:file.
 */

export const LocalModel = z.enum(['local/image', 'local/animation']);
export type LocalModel = z.infer<typeof LocalModel>;

const Seed = z
  .int()
  .nonnegative()
  .max(2 ** 32 - 1);

export const LocalInput = z.strictObject({
  prompt: z.string().trim().min(1).max(4000),
  seed: Seed.optional(),
  width: z.int().min(16).max(4096),
  height: z.int().min(16).max(4096),
  /** Images: how many. */
  count: z.int().min(1).max(8).default(1),
  /** Animations: how long and how fluid. */
  durationSeconds: z.int().min(1).max(60).default(2),
  fps: z.int().min(1).max(60).default(12),
  /** Writes the prompt on the picture. */
  caption: z.boolean().default(true),
});
export type LocalInput = z.infer<typeof LocalInput>;

export const CreateLocalJob = z.strictObject({
  model: LocalModel,
  input: LocalInput,
  /** Where to POST every status change, signed with Standard Webhooks. */
  webhook: z.url({ protocol: /^https?$/ }).optional(),
});
export type CreateLocalJob = z.infer<typeof CreateLocalJob>;

export const LocalJobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']);
export type LocalJobStatus = z.infer<typeof LocalJobStatus>;

/** Why a local job failed, as the provider says it (the adapter turns it into Kiln's failure codes). */
export const LocalFailureCode = z.enum(['out_of_memory', 'worker_lost', 'content_filtered', 'render_failed']);
export type LocalFailureCode = z.infer<typeof LocalFailureCode>;

export const LocalJobView = z.object({
  id: z.string().min(1),
  model: LocalModel,
  status: LocalJobStatus,
  created_at: z.string(),
  queue_position: z.int().nonnegative().nullable(),
  progress: z.number().min(0).max(1).nullable(),
  step: z.string().nullable(),
  logs: z.array(z.string()),
  outputs: z.array(z.object({ url: z.url(), content_type: z.string() })),
  error: z.object({ code: LocalFailureCode, message: z.string() }).nullable(),
  urls: z.object({ get: z.url(), cancel: z.url() }),
});
export type LocalJobView = z.infer<typeof LocalJobView>;

export const LocalApiError = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
