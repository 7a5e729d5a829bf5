import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import {
  ErrorCode,
  ErrorEnvelope,
  httpStatusOfErrorCode,
  InsufficientCreditsDetails,
  okEnvelope,
  ValidationDetails,
} from '#src/http/envelope.ts';
import { ApiProblem } from '#src/http/problem.ts';

const refusal = {
  ok: false,
  error: {
    code: 'validation_failed',
    message: 'the request does not fit its schema',
    details: [{ path: 'request.width', message: 'at least 64' }],
    retryable: false,
    correlationId: 'req-1',
  },
} as const;

describe('the HTTP error envelope', () => {
  it('accepts an error with or without details', () => {
    expect(ErrorEnvelope.parse(refusal)).toEqual(refusal);
    const { details: _details, ...withoutDetails } = refusal.error;
    expect(ErrorEnvelope.parse({ ok: false, error: withoutDetails })).toEqual({
      ok: false,
      error: withoutDetails,
    });
  });

  it('refuses an unknown code, a missing or empty field, an unplanned field, or ok: true', () => {
    const { correlationId: _correlationId, ...withoutCorrelation } = refusal.error;
    const { retryable: _retryable, ...withoutRetryable } = refusal.error;
    const malformed = [
      { ...refusal, ok: true },
      { ...refusal, error: { ...refusal.error, code: 'teapot' } },
      { ...refusal, error: { ...refusal.error, message: '' } },
      { ...refusal, error: { ...refusal.error, retryable: 'no' } },
      { ...refusal, error: { ...refusal.error, correlationId: 'has spaces' } },
      { ...refusal, error: withoutCorrelation },
      { ...refusal, error: withoutRetryable },
      { ...refusal, error: { ...refusal.error, stack: 'at …' } },
      { ...refusal, status: 400 },
      { ok: false },
    ];
    for (const envelope of malformed) expect(ErrorEnvelope.safeParse(envelope).success).toBe(false);
  });

  it('gives every error code an HTTP error status, and knows no code outside that table', () => {
    expect(ErrorCode.options.toSorted()).toEqual(Object.keys(httpStatusOfErrorCode).toSorted());
    for (const code of ErrorCode.options) {
      const status = httpStatusOfErrorCode[code];
      expect(status, code).toBeGreaterThanOrEqual(400);
      expect(status, code).toBeLessThan(600);
    }
    expect(httpStatusOfErrorCode.validation_failed).toBe(400);
    expect(httpStatusOfErrorCode.insufficient_credits).toBe(402);
    expect(httpStatusOfErrorCode.internal).toBe(500);
  });

  it('describes what a 400 and a 402 carry as details', () => {
    expect(ValidationDetails.safeParse(refusal.error.details).success).toBe(true);
    expect(ValidationDetails.safeParse([{ path: 'x' }]).success).toBe(false);
    expect(InsufficientCreditsDetails.safeParse({ required: 10, available: 4, shortfall: 6 }).success).toBe(
      true,
    );
    expect(InsufficientCreditsDetails.safeParse({ required: 10, available: 10, shortfall: 0 }).success).toBe(
      false,
    );
  });
});

describe('the success envelope', () => {
  const JobCreated = okEnvelope(z.strictObject({ jobId: z.string() }));

  it("wraps a route's own answer, and refuses anything else", () => {
    expect(JobCreated.parse({ ok: true, data: { jobId: 'job1' } })).toEqual({
      ok: true,
      data: { jobId: 'job1' },
    });
    expect(JobCreated.safeParse({ ok: true, data: {} }).success).toBe(false);
    expect(JobCreated.safeParse({ ok: false, data: { jobId: 'job1' } }).success).toBe(false);
    expect(JobCreated.safeParse({ ok: true, data: { jobId: 'job1' }, extra: 1 }).success).toBe(false);
  });
});

describe('ApiProblem', () => {
  it('takes its status from the one table, and says whether a retry may help', () => {
    const limited = new ApiProblem('rate_limited', 'slow down', { retryAfterSeconds: 3 });
    expect(limited).toMatchObject({ status: 429, retryable: true, retryAfterSeconds: 3 });
    expect(new ApiProblem('not_found', 'no such job')).toMatchObject({ status: 404, retryable: false });
    expect(new ApiProblem('conflict', 'try again', { retryable: false }).retryable).toBe(false);
  });
});
