import { ApiProblem } from '@kiln/contracts/http/problem';
import { ErrorEnvelope } from '@kiln/contracts/http/envelope';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseWith, sendOk } from '#src/http.ts';
import { captureLogs } from '#src/testing/capturedLogs.ts';
import { kitApp, startServer } from '#src/testing/testServer.ts';

class SeatTaken extends Error {}

const Order = z.strictObject({ item: z.strictObject({ size: z.int().positive() }) });

async function start() {
  const { logger, lines } = captureLogs();
  const app = kitApp(
    {
      logger,
      jsonLimit: '1kb',
      mapError: (error) =>
        error instanceof SeatTaken ? new ApiProblem('conflict', 'that seat is taken') : undefined,
    },
    (app) => {
      app.get('/problem', () => {
        throw new ApiProblem('provider_unavailable', 'the provider is resting', { retryAfterSeconds: 7 });
      });
      app.get('/zod', () => Order.parse({ item: { size: -1 } }));
      app.get('/seat', () => {
        throw new SeatTaken('seat 12');
      });
      app.get('/bug', async () => {
        await Promise.resolve();
        throw new Error('db password is hunter2');
      });
      app.get('/half-sent', (_req, res) => {
        res.status(200).setHeader('Content-Type', 'text/plain');
        res.write('partial');
        throw new Error('too late');
      });
      app.get('/orders/:id', (req, res) => {
        sendOk(res, { id: req.params.id });
      });
      app.post('/orders', (req, res) => {
        sendOk(res, parseWith(Order, req.body, 'body'), 201);
      });
    },
  );
  const { url } = await startServer(app, logger);
  return { url, lines };
}

const errorOf = async (response: Response) => ErrorEnvelope.parse(await response.json()).error;

const post = (
  url: string,
  body: string,
  contentType = 'application/json',
  headers: Record<string, string> = {},
) => fetch(url, { method: 'POST', body, headers: { 'content-type': contentType, ...headers } });

describe('errorMiddleware', () => {
  it('answers an ApiProblem with its status, the envelope and Retry-After', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/problem`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('7');
    const error = await errorOf(response);
    expect(error).toMatchObject({
      code: 'provider_unavailable',
      message: 'the provider is resting',
      retryable: true,
    });
    expect(error.correlationId).toBe(response.headers.get('x-correlation-id'));
    expect(error).not.toHaveProperty('details');
  });

  it('answers a ZodError with 400 validation_failed and a path per problem', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/zod`);
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe('validation_failed');
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual([{ path: 'item.size', message: expect.any(String) as string }]);
  });

  it('answers what mapError maps', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/seat`);
    expect(response.status).toBe(409);
    expect(await errorOf(response)).toMatchObject({ code: 'conflict', message: 'that seat is taken' });
  });

  it('answers anything else with a bare 500 carrying the correlation id, and logs the error with its stack', async () => {
    const { url, lines } = await start();
    const response = await fetch(`${url}/bug`, { headers: { 'x-correlation-id': 'bug-report-1' } });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('Error');
    expect(ErrorEnvelope.parse(JSON.parse(text)).error).toEqual({
      code: 'internal',
      message: 'something went wrong on our side; quote the correlation id',
      retryable: false,
      correlationId: 'bug-report-1',
    });
    const logged = lines.find((line) => line.msg === 'request failed');
    expect(logged).toMatchObject({
      correlationId: 'bug-report-1',
      err: { message: 'db password is hunter2' },
    });
    expect((logged?.['err'] as { stack: string }).stack).toContain('http.test.ts');
  });

  it('leaves a response whose headers are already sent to express, which cuts it', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/half-sent`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });
});

describe('request bodies', () => {
  it('passes a valid JSON body and answers the ok envelope', async () => {
    const { url } = await start();
    const response = await post(`${url}/orders`, JSON.stringify({ item: { size: 2 } }));
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ ok: true, data: { item: { size: 2 } } });
  });

  it('prefixes validation paths with where the input was', async () => {
    const { url } = await start();
    const response = await post(`${url}/orders`, JSON.stringify({ item: { size: 0 }, extra: 1 }));
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.message).toBe('the body is not valid');
    expect((error.details as { path: string }[]).map((detail) => detail.path).sort()).toEqual([
      'body',
      'body.item.size',
    ]);
  });

  it.each([
    ['malformed JSON', '{"item":', 'application/json', 400, 'validation_failed'],
    ['a JSON primitive (strict)', '"just a string"', 'application/json', 400, 'validation_failed'],
    [
      'a body over the limit',
      JSON.stringify({ pad: 'x'.repeat(2_000) }),
      'application/json',
      413,
      'payload_too_large',
    ],
    ['a text/plain body', 'size=2', 'text/plain', 415, 'unsupported_media_type'],
    ['a form body', 'size=2', 'application/x-www-form-urlencoded', 415, 'unsupported_media_type'],
    ['an unsupported charset', '{}', 'application/json; charset=iso-8859-1', 415, 'unsupported_media_type'],
  ])('answers %s with %i', async (_name, body, contentType, status, code) => {
    const { url } = await start();
    const response = await post(`${url}/orders`, body, contentType);
    expect(response.status).toBe(status);
    expect((await errorOf(response)).code).toBe(code);
  });

  it('answers an unsupported content encoding with 415', async () => {
    const { url } = await start();
    const response = await post(`${url}/orders`, '{}', 'application/json', { 'content-encoding': 'x-kiln' });
    expect(response.status).toBe(415);
  });

  it('answers a path that does not percent-decode and a body that does not decompress with 400', async () => {
    const { url } = await start();
    const badEscape = await fetch(`${url}/orders/%E0%A4%A`);
    expect(badEscape.status).toBe(400);
    expect((await errorOf(badEscape)).message).toMatch(/percent-escape/);
    const notGzip = await post(`${url}/orders`, '{}', 'application/json', { 'content-encoding': 'gzip' });
    expect(notGzip.status).toBe(400);
    expect((await errorOf(notGzip)).code).toBe('validation_failed');
  });

  it('lets a POST without a body through to validation instead of answering 415', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/orders`, { method: 'POST' });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe('validation_failed');
  });

  it('says the body is not valid JSON', async () => {
    const { url } = await start();
    const error = await errorOf(await post(`${url}/orders`, '{oops'));
    expect(error.message).toBe('the body is not valid JSON');
  });
});

describe('notFound', () => {
  it('answers an unknown route with the 404 envelope', async () => {
    const { url } = await start();
    const response = await fetch(`${url}/nowhere?secret=1`);
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toMatchObject({
      code: 'not_found',
      message: 'no route for GET /nowhere',
    });
  });
});
