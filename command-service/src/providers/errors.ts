import type { JobFailureCode } from '@kiln/contracts/job/events';
import { ProviderError, type ProviderErrorOptions } from '#src/providers/port.ts';

/**
 * Provider answers and failures in Kiln's words. Messages are written here, never copied from the
 * provider: a provider's wording, a URL (which may carry a token) or a secret never reaches an error.
 */

const CONTENT_FILTER =
  /nsfw|safety (checker|filter|system)|content (policy|filter|moderation)|flagged|sensitive content/i;
const PROVIDER_TIMEOUT = /timed? ?out|deadline exceeded/i;
const REJECTED_INPUT = /invalid|validation|must be|required|not allowed|unprocessable|unsupported/i;

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from now; undefined when absent or unreadable. */
export const parseRetryAfter = (value: string | null | undefined, now = Date.now()): number | undefined => {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

/** Replicate says when its limit resets in the 429 body ("resets in ~30s") when no header is sent. */
const retryAfterFromBody = (body: string): number | undefined => {
  const match = /resets? in ~?(\d+)\s*s/i.exec(body);
  return match?.[1] ? Number(match[1]) * 1000 : undefined;
};

const withRetryAfter = (
  options: ProviderErrorOptions,
  retryAfterMs: number | undefined,
): ProviderErrorOptions => (retryAfterMs === undefined ? options : { ...options, retryAfterMs });

/**
 * An HTTP answer that is not a success. `body` is only read to recognise a content filter or a limit; it
 * never becomes part of the message.
 */
export const errorFromResponse = (status: number, headers: Headers, body = ''): ProviderError => {
  const retryAfterMs = parseRetryAfter(headers.get('retry-after')) ?? retryAfterFromBody(body);
  if (status === 429) {
    return new ProviderError(
      'provider_unavailable',
      'the provider is limiting the rate of requests',
      withRetryAfter({ retryable: true, limit: 'rate', safeToRepeat: true }, retryAfterMs),
    );
  }
  if (status === 402) {
    return new ProviderError('provider_unavailable', "the provider account's credit or quota is exhausted", {
      retryable: false,
      limit: 'quota',
    });
  }
  if (status === 401 || status === 403) {
    return new ProviderError('internal', 'the provider refused the credentials Kiln holds for it', {
      retryable: false,
    });
  }
  if (status === 408 || status === 504) {
    return new ProviderError(
      'provider_timeout',
      `the provider timed out (HTTP ${status})`,
      withRetryAfter({ retryable: true }, retryAfterMs),
    );
  }
  if (status >= 500) {
    return new ProviderError(
      'provider_unavailable',
      `the provider is failing (HTTP ${status})`,
      withRetryAfter({ retryable: true }, retryAfterMs),
    );
  }
  if (CONTENT_FILTER.test(body)) {
    return new ProviderError('content_filtered', 'the content filter of the provider refused the request', {
      retryable: false,
    });
  }
  return new ProviderError('provider_rejected', `the provider rejected the request (HTTP ${status})`, {
    retryable: false,
  });
};

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

const causeCode = (error: unknown): string | undefined => {
  const cause: unknown = error instanceof Error ? error.cause : undefined;
  if (cause && typeof cause === 'object' && 'code' in cause && typeof cause.code === 'string')
    return cause.code;
  return undefined;
};

/** fetch threw: the request was aborted (our timeout), or the network failed before an answer came. */
export const errorFromNetwork = (error: unknown): ProviderError => {
  if (error instanceof ProviderError) return error;
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return timeoutError();
  }
  const code = causeCode(error);
  return new ProviderError('provider_unavailable', 'the provider could not be reached', {
    retryable: true,
    safeToRepeat: code !== undefined && NOT_SENT.has(code),
  });
};

export const timeoutError = (): ProviderError =>
  new ProviderError('provider_timeout', 'the provider did not answer in time', { retryable: true });

/** A success status whose body is not what the provider's API documents. */
export const malformedAnswer = (): ProviderError =>
  new ProviderError('provider_error', 'the provider sent an answer Kiln could not read', { retryable: true });

/** A job the provider reports as failed, classified by the provider's error text (which stays here). */
export const failureFromText = (text: string | undefined): { code: JobFailureCode; retryable: boolean } => {
  const said = text ?? '';
  if (CONTENT_FILTER.test(said)) return { code: 'content_filtered', retryable: false };
  if (PROVIDER_TIMEOUT.test(said)) return { code: 'provider_timeout', retryable: true };
  if (REJECTED_INPUT.test(said)) return { code: 'provider_rejected', retryable: false };
  return { code: 'provider_error', retryable: true };
};
