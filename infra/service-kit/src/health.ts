import { ApiProblem } from '@kiln/contracts/http/problem';
import express, { type Request, type RequestHandler, type Router } from 'express';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { sendOk } from '#src/http.ts';

export type Metrics = { registry: Registry; middleware: RequestHandler };

/** The route pattern that answered (`/v1/jobs/:jobId`), never the raw URL: one series per route, not per id. */
const routeOf = (req: Request): string => {
  const path = (req as { route?: { path?: string | string[] } }).route?.path;
  if (path === undefined) return 'unmatched';
  return `${req.baseUrl}${Array.isArray(path) ? path.join('|') : path}`;
};

/** A registry with Node's default metrics and the request-duration histogram, and the middleware feeding it. */
export function createMetrics(service: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'How long HTTP requests took, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const middleware: RequestHandler = (req, res, next) => {
    const stop = duration.startTimer();
    res.once('finish', () => {
      stop({ method: req.method, route: routeOf(req), status: String(res.statusCode) });
    });
    next();
  };
  return { registry, middleware };
}

export type ReadinessCheck = () => Promise<void>;

const maxReasonLength = 120;

/** A reason short enough for a probe's answer, with any `user:password@` taken out of URLs in it. */
const shortReason = (error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error);
  const reason = message.replace(/\/\/[^/\s@]*@/g, '//') || 'failed';
  return reason.length > maxReasonLength ? `${reason.slice(0, maxReasonLength - 1)}…` : reason;
};

const outcomeOf = async (check: ReadinessCheck, timeoutMs: number): Promise<string> => {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(check), timedOut]);
    return 'ok';
  } catch (error) {
    return shortReason(error);
  } finally {
    clearTimeout(timer);
  }
};

export type HealthOptions = {
  registry: Registry;
  /** What must answer before this instance takes traffic, by name: `{ redis: redisReadiness(redis) }`. */
  readiness?: Record<string, ReadinessCheck>;
  timeoutMs?: number;
};

/**
 * GET /healthz (the process is up), GET /readyz (every readiness check passes within the timeout, else
 * 503 `unavailable` naming the ones that did not) and GET /metrics (Prometheus text). Errors go through
 * errorMiddleware, like every other route.
 */
export function healthRoutes({ registry, readiness = {}, timeoutMs = 2000 }: HealthOptions): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    sendOk(res, { status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const outcomes = await Promise.all(
      Object.entries(readiness).map(
        async ([name, check]) => [name, await outcomeOf(check, timeoutMs)] as const,
      ),
    );
    const failing = outcomes.filter(([, outcome]) => outcome !== 'ok').map(([name]) => name);
    const checks = Object.fromEntries(outcomes);
    if (failing.length > 0) {
      throw new ApiProblem('unavailable', `not ready: ${failing.join(', ')}`, { details: checks });
    }
    sendOk(res, { status: 'ok', checks });
  });
  router.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });
  return router;
}
