import type { JobFailureCode } from '@kiln/contracts/job/events';

/**
 * Why an output could not be made into artifacts:
 * - `output_invalid`: the bytes are not a supported image, animation or video, or are corrupt or truncated;
 * - `output_too_large`: more bytes than allowed, or more pixels than sharp may decode;
 * - `download_failed`: the output could not be fetched (network, timeout, an HTTP error answer).
 */
export type MediaFailureCode = 'output_invalid' | 'output_too_large' | 'download_failed';

export type MediaFailureOptions = { retryable: boolean; cause?: unknown };

/**
 * A failure of the pipeline, in Kiln's words: the message never carries an output's URL (it may hold a
 * token) nor a library's wording. `retryable` says whether trying the same output again later may succeed.
 */
export class MediaFailure extends Error {
  override readonly name = 'MediaFailure';
  readonly code: MediaFailureCode;
  readonly retryable: boolean;

  constructor(code: MediaFailureCode, message: string, options: MediaFailureOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable;
  }
}

export const invalidOutput = (message: string, cause?: unknown): MediaFailure =>
  new MediaFailure('output_invalid', message, { retryable: false, cause });

export const outputTooLarge = (message: string, cause?: unknown): MediaFailure =>
  new MediaFailure('output_too_large', message, { retryable: false, cause });

/**
 * The job failure a media failure becomes once retrying is over: a download that kept failing is the
 * provider's storage being unavailable; one refused for good (a 404) leaves no output to keep.
 */
export const jobFailureCodeOf = (failure: MediaFailure): JobFailureCode => {
  if (failure.code !== 'download_failed') return failure.code;
  return failure.retryable ? 'provider_unavailable' : 'output_invalid';
};

/** A sharp error as a MediaFailure: its pixel limit is `output_too_large`, anything else `output_invalid`. */
export const failureFromSharp = (error: unknown, contentType: string): MediaFailure =>
  error instanceof Error && /pixel limit/i.test(error.message)
    ? outputTooLarge(`the output has more pixels than may be decoded`, error)
    : invalidOutput(`the output is a corrupt or truncated ${contentType}`, error);
