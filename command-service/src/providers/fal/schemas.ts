import { z } from 'zod';

/** fal's queue API (https://docs.fal.ai/model-apis/model-endpoints/queue), as far as Kiln reads it. */

export const FalSubmitted = z.object({
  request_id: z.string().min(1),
  status_url: z.string().optional(),
  response_url: z.string().optional(),
  cancel_url: z.string().optional(),
});

const FalLog = z.object({
  message: z.string(),
  level: z.string().optional(),
  timestamp: z.string().optional(),
});

export const FalQueueStatus = z.object({
  status: z.enum(['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED']),
  queue_position: z.int().nonnegative().nullable().optional(),
  logs: z.array(FalLog).nullable().optional(),
  /** Set on a request that failed (with `error_type`, e.g. request_timeout, runner_disconnected). */
  error: z.string().nullable().optional(),
  error_type: z.string().nullable().optional(),
});
export type FalQueueStatus = z.infer<typeof FalQueueStatus>;

/** PUT .../cancel answers OK (removed from the queue), CANCELLATION_REQUESTED (running), ALREADY_COMPLETED. */
export const FalCancelAnswer = z.object({ status: z.string() });

/** A model's result: model-specific, read by outputsOfFalResult. */
export const FalResult = z.record(z.string(), z.unknown());
export type FalResult = z.infer<typeof FalResult>;

/** A failed request's answer at its response URL: a validation detail list, or a request error. */
export const FalErrorBody = z.object({
  detail: z
    .union([z.string(), z.array(z.object({ msg: z.string().optional(), type: z.string().optional() }))])
    .optional(),
  error_type: z.string().optional(),
});

/** The body fal POSTs to `fal_webhook` when a request ends. */
export const FalWebhookBody = z.object({
  request_id: z.string().min(1),
  gateway_request_id: z.string().optional(),
  status: z.enum(['OK', 'ERROR']),
  payload: z.unknown().optional(),
  error: z.string().nullable().optional(),
  payload_error: z.string().nullable().optional(),
});
export type FalWebhookBody = z.infer<typeof FalWebhookBody>;
