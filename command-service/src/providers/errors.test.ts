import { describe, expect, it } from 'vitest';
import {
  errorFromNetwork,
  errorFromResponse,
  failureFromText,
  parseRetryAfter,
} from '#src/providers/errors.ts';
import { progressFromLogs, recentLogLines } from '#src/providers/logs.ts';

const headers = (values: Record<string, string> = {}) => new Headers(values);

describe('provider errors in Kiln terms', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2_000);
    expect(parseRetryAfter('1.5', now)).toBe(1_500);
    expect(parseRetryAfter('Sun, 01 Mar 2026 12:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('maps statuses to codes, retryability, limits and waits', () => {
    const read = (status: number, values?: Record<string, string>, body?: string) => {
      const error = errorFromResponse(status, headers(values), body);
      return [error.code, error.retryable, error.retryAfterMs, error.limit];
    };
    expect(read(429, { 'retry-after': '7' })).toEqual(['provider_unavailable', true, 7_000, 'rate']);
    expect(read(429, {}, '{"detail":"Request was throttled. Your rate limit resets in ~30s."}')).toEqual([
      'provider_unavailable',
      true,
      30_000,
      'rate',
    ]);
    expect(read(503, { 'retry-after': '1' })).toEqual(['provider_unavailable', true, 1_000, undefined]);
    expect(read(500)).toEqual(['provider_unavailable', true, undefined, undefined]);
    expect(read(504)).toEqual(['provider_timeout', true, undefined, undefined]);
    expect(read(422, {}, '{"detail":"prompt must be shorter"}')).toEqual([
      'provider_rejected',
      false,
      undefined,
      undefined,
    ]);
    expect(read(400, {}, '{"detail":"NSFW content detected"}')).toEqual([
      'content_filtered',
      false,
      undefined,
      undefined,
    ]);
    expect(read(402)).toEqual(['provider_unavailable', false, undefined, 'quota']);
    expect(read(401)).toEqual(['internal', false, undefined, undefined]);
  });

  it("never repeats the provider's words", () => {
    const error = errorFromResponse(422, headers(), '{"detail":"secret-looking provider wording r8_abc"}');
    expect(error.message).not.toContain('wording');
    expect(error.message).not.toContain('r8_abc');
  });

  it('knows a refused connection sent nothing, and an abort is a timeout', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
    });
    expect(errorFromNetwork(refused)).toMatchObject({
      code: 'provider_unavailable',
      retryable: true,
      safeToRepeat: true,
    });
    const reset = new TypeError('fetch failed', {
      cause: Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' }),
    });
    expect(errorFromNetwork(reset)).toMatchObject({ code: 'provider_unavailable', safeToRepeat: false });
    expect(errorFromNetwork(new DOMException('aborted', 'AbortError'))).toMatchObject({
      code: 'provider_timeout',
      retryable: true,
    });
  });

  it('classifies failed jobs by their error text', () => {
    expect(failureFromText('NSFW content detected. Try a different prompt.')).toEqual({
      code: 'content_filtered',
      retryable: false,
    });
    expect(failureFromText('Prediction timed out')).toEqual({ code: 'provider_timeout', retryable: true });
    expect(failureFromText('input.width: must be a multiple of 8')).toEqual({
      code: 'provider_rejected',
      retryable: false,
    });
    expect(failureFromText('CUDA out of memory')).toEqual({ code: 'provider_error', retryable: true });
    expect(failureFromText(undefined)).toEqual({ code: 'provider_error', retryable: true });
  });
});

describe('provider logs', () => {
  it('keeps the last readable lines and reads progress bars', () => {
    const lines = recentLogLines(
      '\u001b[32mUsing seed: 1\u001b[0m\n\n  0%|          | 0/4\r 50%|█████     | 2/4\n',
    );
    expect(lines).toEqual(['Using seed: 1', '0%|          | 0/4', '50%|█████     | 2/4']);
    expect(progressFromLogs(lines)).toBe(0.5);
    expect(progressFromLogs(['step 3/8'])).toBe(0.375);
    expect(progressFromLogs(['nothing to see'])).toBeUndefined();
    expect(recentLogLines(Array.from({ length: 30 }, (_, i) => `line ${i}`))).toHaveLength(20);
  });
});
