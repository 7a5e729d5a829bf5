import { describe, expect, it } from 'vitest';
import { currentCorrelationId, currentLogger } from '#src/logger.ts';
import { sendOk } from '#src/http.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';
import { kitApp, startServer } from '#src/testing/testServer.ts';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function start() {
  const { logger, lines } = captureLogs();
  const app = kitApp({ logger }, (app) => {
    app.get('/work', async (_req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      currentLogger().info('working');
      sendOk(res, { correlationId: currentCorrelationId() });
    });
    app.post('/echo', (req, res) => {
      sendOk(res, { correlationId: currentCorrelationId(), body: req.body as unknown });
    });
  });
  const { url } = await startServer(app, logger);
  return { url, lines };
}

describe('correlation', () => {
  it('echoes a valid id and carries it into the handler, its log lines and the request line', async () => {
    const { url, lines } = await start();
    const response = await fetch(`${url}/work?page=2`, {
      headers: { 'x-correlation-id': 'job-42.retry:1', authorization: 'Bearer sekret' },
    });
    expect(response.headers.get('x-correlation-id')).toBe('job-42.retry:1');
    expect(await response.json()).toEqual({ ok: true, data: { correlationId: 'job-42.retry:1' } });
    expect(lines.find((line) => line.msg === 'working')).toMatchObject({ correlationId: 'job-42.retry:1' });
    const requestLine = lines.find((line) => line.msg === 'request');
    expect(requestLine).toMatchObject({
      method: 'GET',
      path: '/work',
      status: 200,
      correlationId: 'job-42.retry:1',
      service: 'test',
    });
    expect(requestLine?.['ms']).toEqual(expect.any(Number));
    expect(JSON.stringify(lines)).not.toContain('sekret');
  });

  it('keeps the context across body parsing', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'body-1' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(await response.json()).toEqual({ ok: true, data: { correlationId: 'body-1', body: { a: 1 } } });
  });

  it.each([
    ['missing', undefined],
    ['with spaces', 'not a valid id'],
    ['500 characters long', 'a'.repeat(500)],
    ['with a newline-ish escape', 'abc%0d%0aSet-Cookie'],
  ])('replaces an id that is %s with a new UUID', async (_name, given) => {
    const { url, lines } = await start();
    const response = await fetch(`${url}/work`, { headers: given ? { 'x-correlation-id': given } : {} });
    const correlationId = response.headers.get('x-correlation-id');
    expect(correlationId).toMatch(uuid);
    expect(await response.json()).toEqual({ ok: true, data: { correlationId } });
    expect(lines.find((line) => line.msg === 'request')?.['correlationId']).toBe(correlationId);
  });
});
