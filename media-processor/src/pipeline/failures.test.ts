import { describe, expect, it } from 'vitest';
import { failureFromSharp, jobFailureCodeOf, MediaFailure } from '#src/pipeline/failures.ts';

describe('media failures', () => {
  it.each([
    [new MediaFailure('output_invalid', 'x', { retryable: false }), 'output_invalid'],
    [new MediaFailure('output_too_large', 'x', { retryable: false }), 'output_too_large'],
    [new MediaFailure('download_failed', 'x', { retryable: true }), 'provider_unavailable'],
    [new MediaFailure('download_failed', 'x', { retryable: false }), 'output_invalid'],
  ])('become a job failure code once retrying is over: %s', (failure, code) => {
    expect(jobFailureCodeOf(failure)).toBe(code);
  });

  it("reads sharp's pixel limit as too large and anything else as invalid, in Kiln's words", () => {
    expect(failureFromSharp(new Error('Input image exceeds pixel limit'), 'image/png')).toMatchObject({
      code: 'output_too_large',
      retryable: false,
    });
    const invalid = failureFromSharp(new Error('vipspng: libpng read error'), 'image/png');
    expect(invalid).toMatchObject({
      code: 'output_invalid',
      message: 'the output is a corrupt or truncated image/png',
    });
    expect(invalid.cause).toBeInstanceOf(Error);
  });
});
