import type { z } from 'zod';
import type { JobFailureCode } from '@kiln/contracts/job/events';
import { failureFromText } from '#src/providers/errors.ts';
import type { FalErrorBody, FalResult } from '#src/providers/fal/schemas.ts';
import type { ProviderOutput, ProviderStatus } from '#src/providers/port.ts';

type FalFile = { url: string; content_type?: string };

const isFile = (value: unknown): value is FalFile =>
  !!value &&
  typeof value === 'object' &&
  'url' in value &&
  typeof value.url === 'string' &&
  /^https?:\/\//.test(value.url);

const toOutput = (file: FalFile): ProviderOutput =>
  typeof file.content_type === 'string'
    ? { url: file.url, contentType: file.content_type }
    : { url: file.url };

/**
 * The files of a fal result: `images` (FLUX...), `image`, `video` (Kling...), `videos`. Images the
 * safety checker flagged (`has_nsfw_concepts`) come back blacked out, so they are left out; a result
 * with every image flagged is a content-filter failure.
 */
export const statusOfFalResult = (result: FalResult): ProviderStatus => {
  const flags = Array.isArray(result.has_nsfw_concepts) ? result.has_nsfw_concepts : [];
  const images = Array.isArray(result.images) ? result.images.filter(isFile) : [];
  const kept = images.filter((_, index) => flags[index] !== true);
  if (images.length > 0 && kept.length === 0)
    return { state: 'failed', code: 'content_filtered', retryable: false };
  const singles = [result.image, result.video].filter(isFile);
  const videos = Array.isArray(result.videos) ? result.videos.filter(isFile) : [];
  const outputs = [...kept, ...singles, ...videos].map(toOutput);
  return outputs.length > 0
    ? { state: 'succeeded', outputs }
    : { state: 'failed', code: 'output_invalid', retryable: false };
};

const ERROR_TYPES: Record<string, { code: JobFailureCode; retryable: boolean }> = {
  request_timeout: { code: 'provider_timeout', retryable: true },
  startup_timeout: { code: 'provider_timeout', retryable: true },
  runner_scheduling_failure: { code: 'provider_unavailable', retryable: true },
  runner_connection_timeout: { code: 'provider_unavailable', retryable: true },
  runner_disconnected: { code: 'provider_unavailable', retryable: true },
  runner_connection_refused: { code: 'provider_unavailable', retryable: true },
  content_policy_violation: { code: 'content_filtered', retryable: false },
};

/** A failed request, from its `error_type` when fal gives a known one, else from its words. */
export const falFailure = (
  errorType: string | null | undefined,
  text: string | null | undefined,
): { code: JobFailureCode; retryable: boolean } =>
  (errorType ? ERROR_TYPES[errorType] : undefined) ?? failureFromText(text ?? undefined);

/** Whether a COMPLETED request ended because someone canceled it. */
export const wasCanceled = (errorType: string | null | undefined, text: string | null | undefined): boolean =>
  /cancel/i.test(`${errorType ?? ''} ${text ?? ''}`);

/**
 * The failure in a failed request's answer. A list of typed details is a validation error (a 422): the
 * input was rejected, or refused by the content policy.
 */
export const falFailureOfBody = (
  body: z.infer<typeof FalErrorBody>,
): { code: JobFailureCode; retryable: boolean } => {
  const detail = body.detail;
  if (Array.isArray(detail)) {
    if (detail.some((item) => item.type === 'content_policy_violation'))
      return { code: 'content_filtered', retryable: false };
    const failure = failureFromText(detail.map((item) => item.msg ?? '').join(' '));
    return failure.code === 'content_filtered' ? failure : { code: 'provider_rejected', retryable: false };
  }
  return falFailure(body.error_type, detail);
};
