import express from 'express';
import { describe, expect, it } from 'vitest';
import { ErrorEnvelope } from '@kiln/contracts/http/envelope';
import { createMetrics, healthRoutes, type ReadinessCheck } from '#src/health.ts';
import { sendOk } from '#src/http.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';
import { kitApp, startServer } from '#src/testing/testServer.ts';

async function start(readiness: Record<string, ReadinessCheck> = {}) {
  const { logger } = captureLogs();
  const { registry, middleware } = createMetrics('test-service');
  const app = kitApp({ logger }, (app) => {
    app.use(middleware);
    app.use(healthRoutes({ registry, readiness, timeoutMs: 100 }));
    const jobs = express.Router();
    jobs.get('/:jobId', (req, res) => {
      sendOk(res, { jobId: req.params['jobId'] });
    });
    app.use('/v1/jobs', jobs);
  });
  const { url } = await startServer(app, logger);
  return url;
}

describe('healthRoutes', () => {
  it('answers /healthz', async () => {
    const response = await fetch(`${await start()}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, data: { status: 'ok' } });
  });

  it('answers /readyz with every check ok', async () => {
    const url = await start({ redis: () => Promise.resolve(), postgres: () => Promise.resolve() });
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      ok: true,
      data: { status: 'ok', checks: { redis: 'ok', postgres: 'ok' } },
    });
  });

  it('answers /readyz with 503 naming the checks that failed or took too long', async () => {
    const url = await start({
      postgres: () => Promise.resolve(),
      redis: () => Promise.reject(new Error('connect ECONNREFUSED redis://kiln:pa55@127.0.0.1:6390')),
      mongo: () => new Promise(() => {}),
    });
    const response = await fetch(`${url}/readyz`);
    expect(response.status).toBe(503);
    const { error } = ErrorEnvelope.parse(await response.json());
    expect(error).toMatchObject({
      code: 'unavailable',
      message: 'not ready: redis, mongo',
      retryable: true,
      details: {
        postgres: 'ok',
        redis: 'connect ECONNREFUSED redis://127.0.0.1:6390',
        mongo: 'timed out after 100 ms',
      },
    });
  });

  it('serves Prometheus text with default metrics and the request histogram by route pattern', async () => {
    const url = await start();
    await fetch(`${url}/v1/jobs/job-123`);
    await fetch(`${url}/v1/nothing-here`);
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(
      /http_request_duration_seconds_count\{service="test-service",method="GET",route="\/v1\/jobs\/:jobId",status="200"\} 1/,
    );
    expect(text).toMatch(
      /http_request_duration_seconds_count\{service="test-service",method="GET",route="unmatched",status="404"\} 1/,
    );
    expect(text).not.toContain('job-123');
  });
});
