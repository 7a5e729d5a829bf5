import { httpStatusOfErrorCode, type ErrorCode } from '#src/http/envelope.ts';

const retryableByDefault: ReadonlySet<ErrorCode> = new Set([
  'rate_limited',
  'too_many_active_jobs',
  'conflict',
  'unavailable',
  'provider_unavailable',
  'provider_timeout',
  'provider_error',
]);

export type ApiProblemOptions = {
  details?: unknown;
  retryable?: boolean;
  /** Sent as `Retry-After` (whole seconds). */
  retryAfterSeconds?: number;
};

/**
 * An answer in the error envelope, thrown anywhere in a request and sent by the one error middleware:
 * its HTTP status comes from the code, through the one table in `http/envelope`.
 */
export class ApiProblem extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly retryable: boolean;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, message: string, options: ApiProblemOptions = {}) {
    super(message);
    this.name = 'ApiProblem';
    this.code = code;
    this.status = httpStatusOfErrorCode[code];
    this.details = options.details;
    this.retryable = options.retryable ?? retryableByDefault.has(code);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}
