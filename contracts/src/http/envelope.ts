import { z } from 'zod';
import { CorrelationId } from '#src/envelope.ts';

/** Every error code Kiln answers with, and the HTTP status it travels with. One table, used everywhere. */
export const httpStatusOfErrorCode = {
  validation_failed: 400,
  unauthenticated: 401,
  insufficient_credits: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  too_many_active_jobs: 429,
  internal: 500,
  provider_error: 502,
  provider_unavailable: 503,
  unavailable: 503,
  provider_timeout: 504,
} as const;

export const ErrorCode = z.enum(
  Object.keys(httpStatusOfErrorCode) as [
    keyof typeof httpStatusOfErrorCode,
    ...(keyof typeof httpStatusOfErrorCode)[],
  ],
);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ApiError = z.strictObject({
  code: ErrorCode,
  message: z.string().min(1),
  details: z.unknown().optional(),
  retryable: z.boolean(),
  correlationId: CorrelationId,
});
export type ApiError = z.infer<typeof ApiError>;

export const ErrorEnvelope = z.strictObject({ ok: z.literal(false), error: ApiError });
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

/** The success envelope around a route's own answer: `{ ok: true, data }`. */
export const okEnvelope = <Data extends z.ZodType>(data: Data) =>
  z.strictObject({ ok: z.literal(true), data });

export type OkEnvelope<Data> = { ok: true; data: Data };
export type Envelope<Data> = OkEnvelope<Data> | ErrorEnvelope;

/** Details for 402: how many credits the request needs and how many more the account must get. */
export const InsufficientCreditsDetails = z.strictObject({
  required: z.int().nonnegative(),
  available: z.int().nonnegative(),
  shortfall: z.int().positive(),
});
export type InsufficientCreditsDetails = z.infer<typeof InsufficientCreditsDetails>;

/** Details for 400: where the input is wrong and why, one entry per problem. */
export const ValidationDetails = z.array(z.strictObject({ path: z.string(), message: z.string() }));
export type ValidationDetails = z.infer<typeof ValidationDetails>;
