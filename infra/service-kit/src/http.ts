import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { CorrelationId } from '@kiln/contracts/envelope';
import type { ErrorEnvelope, OkEnvelope } from '@kiln/contracts/http/envelope';
import { ApiProblem } from '@kiln/contracts/http/problem';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { z } from 'zod';
import { currentCorrelationId, currentLogger, runWithContext, type Logger } from '#src/logger.ts';
import { problemOf, validationDetails, type InputPlace, type MapError } from '#src/http/problems.ts';

export type { InputPlace, MapError };

export const correlationHeader = 'x-correlation-id';

const internalMessage = 'something went wrong on our side; quote the correlation id';

/** What the kit keeps in `res.locals` for the rest of the request. */
type KitLocals = { correlationId?: string; errorCode?: string };
const localsOf = (res: Response): KitLocals => res.locals as KitLocals;

const correlationIdOf = (res: Response): string =>
  localsOf(res).correlationId ?? currentCorrelationId() ?? randomUUID();

const pathOf = (req: Request): string => req.originalUrl.split('?', 1)[0] ?? '/';

/**
 * Takes the caller's `x-correlation-id` when it is a valid one, else makes one; sends it back, and runs the
 * rest of the request with it and a child logger carrying it (see `currentLogger()`). Install it first.
 */
export function correlation(options: { logger?: Logger } = {}): RequestHandler {
  return (req, res, next) => {
    const given = CorrelationId.safeParse(req.get(correlationHeader));
    const correlationId = given.success ? given.data : randomUUID();
    res.setHeader(correlationHeader, correlationId);
    localsOf(res).correlationId = correlationId;
    const logger = currentLogger(options.logger).child({ correlationId });
    runWithContext({ correlationId, logger }, next);
  };
}

/** One log line per request when it ends: method, path (no query string), status, ms. No headers, no body. */
export function requestLog(): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const logger = currentLogger();
    let logged = false;
    const log = (): void => {
      if (logged) return;
      logged = true;
      const { correlationId, errorCode } = localsOf(res);
      const line = {
        method: req.method,
        path: pathOf(req),
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        correlationId,
        ...(errorCode ? { code: errorCode } : {}),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (res.statusCode >= 500) logger.warn(line, 'request');
      else logger.info(line, 'request');
    };
    res.once('finish', log);
    res.once('close', log);
    next();
  };
}

const jsonTypes = ['application/json', 'application/*+json'];

/** JSON bodies only: `express.json` (strict), and 415 for a body of any other content type. */
export function jsonBody({ limit = '100kb' }: { limit?: string | number } = {}): RequestHandler {
  const parseJson = express.json({ strict: true, limit, type: jsonTypes });
  return (req, res, next) => {
    // `req.is` answers null when there is no body, false when the body is not JSON. A POST with an empty
    // body (`Content-Length: 0`, no Content-Type: what fetch and browsers send) has no type to refuse.
    const empty = req.headers['content-length'] === '0' && req.headers['content-type'] === undefined;
    if (!empty && req.is(jsonTypes) === false) {
      throw new ApiProblem(
        'unsupported_media_type',
        'send the body as JSON (Content-Type: application/json)',
      );
    }
    parseJson(req, res, next);
  };
}

const envelopeOf = (problem: ApiProblem, correlationId: string): ErrorEnvelope => ({
  ok: false,
  error: {
    code: problem.code,
    message: problem.message,
    ...(problem.details === undefined ? {} : { details: problem.details }),
    retryable: problem.retryable,
    correlationId,
  },
});

const safely = (mapError: MapError | undefined, logger: Logger): MapError | undefined =>
  mapError &&
  ((error) => {
    try {
      return mapError(error);
    } catch (mappingError) {
      logger.error({ err: mappingError }, 'mapError threw; answering 500');
      return undefined;
    }
  });

/**
 * The one place an error becomes the error envelope. ApiProblem, ZodError and body-parser errors are
 * answered as they say; `mapError` turns the service's domain errors into ApiProblems; anything else is a
 * 500 that tells the client nothing but the correlation id, while the error and its stack go to the log.
 */
export function errorMiddleware({ mapError }: { mapError?: MapError } = {}): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const logger = currentLogger();
    const correlationId = correlationIdOf(res);
    const problem = problemOf(error, safely(mapError, logger)) ?? new ApiProblem('internal', internalMessage);
    if (problem.code === 'internal') logger.error({ err: error }, 'request failed');
    else if (problem.status >= 500) logger.warn({ err: error, code: problem.code }, 'request failed');
    localsOf(res).errorCode = problem.code;
    if (problem.retryAfterSeconds !== undefined) {
      res.setHeader('Retry-After', String(Math.max(0, Math.ceil(problem.retryAfterSeconds))));
    }
    res.status(problem.status).json(envelopeOf(problem, correlationId));
  };
}

/** 404 in the envelope for any route nobody answered; install after the routes, before errorMiddleware. */
export function notFound(): RequestHandler {
  return (req) => {
    throw new ApiProblem('not_found', `no route for ${req.method} ${pathOf(req)}`);
  };
}

export function sendOk<Data>(res: Response, data: Data, status = 200): void {
  const envelope: OkEnvelope<Data> = { ok: true, data };
  res.status(status).json(envelope);
}

/** Validates one part of the request: the data, or a 400 whose details say where (`body.items.0.size`). */
export function parseWith<Schema extends z.ZodType>(
  schema: Schema,
  value: unknown,
  where: InputPlace,
): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ApiProblem('validation_failed', `the ${where} is not valid`, {
    details: validationDetails(result.error, where),
  });
}
