import { ApiProblem } from '@kiln/contracts/http/problem';
import type { ValidationDetails } from '@kiln/contracts/http/envelope';
import { z } from 'zod';

/** Turns a service's domain error into an answer; `undefined` means "not mine" (it becomes a 500). */
export type MapError = (error: unknown) => ApiProblem | undefined;

export type InputPlace = 'body' | 'query' | 'params' | 'headers';

const joinPath = (prefix: string | undefined, path: readonly PropertyKey[]): string =>
  [...(prefix ? [prefix] : []), ...path.map(String)].join('.');

export const validationDetails = (error: z.core.$ZodError, prefix?: InputPlace): ValidationDetails =>
  error.issues.map((issue) => ({ path: joinPath(prefix, issue.path), message: issue.message }));

/** body-parser's errors (http-errors with a `type`), as answers. */
const bodyProblems: Record<string, () => ApiProblem> = {
  'entity.parse.failed': () => new ApiProblem('validation_failed', 'the body is not valid JSON'),
  'entity.verify.failed': () => new ApiProblem('validation_failed', 'the body could not be verified'),
  'entity.too.large': () => new ApiProblem('payload_too_large', 'the body is too large'),
  'encoding.unsupported': () =>
    new ApiProblem(
      'unsupported_media_type',
      'the body is in a content encoding this service does not accept',
    ),
  'charset.unsupported': () =>
    new ApiProblem('unsupported_media_type', 'the body is in a charset this service does not accept'),
  'request.aborted': () => new ApiProblem('validation_failed', 'the body was cut off before its end'),
  'request.size.invalid': () =>
    new ApiProblem('validation_failed', 'the body length does not match its Content-Length'),
  'parameters.too.many': () => new ApiProblem('validation_failed', 'the body has too many parameters'),
};

const bodyErrorType = (error: unknown): string | undefined => {
  if (!(error instanceof Error) || !('type' in error) || typeof error.type !== 'string') return undefined;
  return Object.hasOwn(bodyProblems, error.type) ? error.type : undefined;
};

/** An http-errors 400 meant for the client, e.g. a body that does not decode by its Content-Encoding. */
const isExposedBadRequest = (error: unknown): boolean =>
  error instanceof Error &&
  'status' in error &&
  error.status === 400 &&
  'expose' in error &&
  error.expose === true;

/**
 * The answer for an error thrown while serving a request, or `undefined` when the error is not meant for
 * the client (a bug, a dependency failing...), which the error middleware answers as a bare 500.
 */
export function problemOf(error: unknown, mapError: MapError | undefined): ApiProblem | undefined {
  if (error instanceof ApiProblem) return error;
  if (error instanceof z.core.$ZodError) {
    return new ApiProblem('validation_failed', 'the request is not valid', {
      details: validationDetails(error),
    });
  }
  const bodyError = bodyErrorType(error);
  if (bodyError) return bodyProblems[bodyError]?.();
  const mapped = mapError?.(error);
  if (mapped) return mapped;
  // Express's own client errors: a path parameter that does not percent-decode (the router's URIError),
  // a body that cannot be read (an exposed 400 from body-parser or zlib).
  if (error instanceof URIError) {
    return new ApiProblem('validation_failed', 'the URL is not valid: a percent-escape does not decode');
  }
  if (isExposedBadRequest(error))
    return new ApiProblem('validation_failed', 'the request body could not be read');
  return undefined;
}
