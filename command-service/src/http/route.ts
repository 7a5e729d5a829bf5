import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { z } from 'zod';
import type { ErrorCode } from '@kiln/contracts/http/envelope';
import type { RateLimitRule } from '@kiln/service-kit/rate-limit';

export type Access = 'anyone' | 'user' | 'admin' | 'signed-webhook';

/**
 * One route's contract: what it takes, what it answers, who may call it. The same object validates the
 * request at run time and writes the route into the OpenAPI document, so the two cannot drift apart.
 */
export type RouteContract<
  Params extends z.ZodType = z.ZodType,
  Body extends z.ZodType = z.ZodType,
  Query extends z.ZodType = z.ZodType,
> = {
  method: 'get' | 'post' | 'delete';
  /** Express form: `/v1/jobs/:jobId/cancel`. */
  path: string;
  summary: string;
  access: Access;
  /** The request needs an `Idempotency-Key` header; a retry gets the first answer back. */
  idempotent?: boolean;
  params?: Params;
  body?: Body;
  query?: Query;
  /** 'multipart' bodies are described here and parsed by the route's own middleware. */
  bodyKind?: 'json' | 'multipart';
  success: { status: 200 | 201 | 202; data: z.ZodType; description: string };
  errors: ErrorCode[];
};

export type Parsed<Route extends RouteContract> = {
  params: Route['params'] extends z.ZodType ? z.infer<Route['params']> : undefined;
  body: Route['body'] extends z.ZodType ? z.infer<Route['body']> : undefined;
  query: Route['query'] extends z.ZodType ? z.infer<Route['query']> : undefined;
};

export type RouteHandler<Route extends RouteContract> = (
  input: Parsed<Route>,
  req: Request,
  res: Response,
) => Promise<z.input<Route['success']['data']>>;

export type MountOptions = {
  /**
   * The route's own rate limits, checked after its input. On an idempotent route they are counted
   * together with the claim of its key, so both cost one Redis round trip.
   */
  limits?: RateLimitRule[];
};

export type Mount = <Route extends RouteContract>(
  router: Router,
  route: Route,
  middleware: RequestHandler[],
  handler: RouteHandler<Route>,
  options?: MountOptions,
) => void;

/** Express path `/v1/jobs/:jobId` → OpenAPI path `/v1/jobs/{jobId}`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export type Next = NextFunction;
