import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  browserUrlOf,
  callService,
  problemOf,
  serviceUrls,
  sessionCookieOf,
  sessionSetCookiesOf,
  withSetCookies,
} from '../src/server/kiln.server.ts';
import { safeNext } from '../src/server/session.server.ts';

const envelope = (code: string, message: string, details?: unknown) => ({
  ok: false,
  error: { code, message, retryable: false, correlationId: 'corr-1', ...(details ? { details } : {}) },
});

describe('the session cookie going to the services', () => {
  it('forwards kiln_session and nothing else', () => {
    expect(sessionCookieOf('theme=dark; kiln_session=abc.def; _ga=GA1.2')).toBe('kiln_session=abc.def');
    expect(sessionCookieOf('kiln_session=abc=padded==')).toBe('kiln_session=abc=padded==');
  });

  it('is none when the browser has no session', () => {
    expect(sessionCookieOf(null)).toBeNull();
    expect(sessionCookieOf('')).toBeNull();
    expect(sessionCookieOf('theme=dark')).toBeNull();
    expect(sessionCookieOf('kiln_session=')).toBeNull();
    // A cookie whose name only ends like it is another cookie.
    expect(sessionCookieOf('not_kiln_session=x')).toBeNull();
  });
});

describe('the services as the browser reaches them', () => {
  it('names a loopback service as the page was named, so the session cookie goes along', () => {
    expect(browserUrlOf('http://127.0.0.1:4400', 'http://localhost:4000/studio')).toBe(
      'http://localhost:4400',
    );
    expect(browserUrlOf('http://localhost:4300/', 'http://127.0.0.1:4000/jobs/j1')).toBe(
      'http://127.0.0.1:4300',
    );
    expect(browserUrlOf('http://127.0.0.1:4400', 'http://127.0.0.1:4000/')).toBe('http://127.0.0.1:4400');
  });

  it('leaves a service elsewhere as configured', () => {
    expect(browserUrlOf('https://hub.kiln.example', 'http://localhost:4000/')).toBe(
      'https://hub.kiln.example',
    );
    expect(browserUrlOf('http://127.0.0.1:4400', 'https://studio.kiln.example/')).toBe(
      'http://127.0.0.1:4400',
    );
  });
});

describe('Set-Cookie coming back from the services', () => {
  it('keeps the session lines as they are, each on its own', () => {
    const headers = new Headers();
    headers.append(
      'Set-Cookie',
      'kiln_session=tok; Path=/; HttpOnly; SameSite=Lax; Expires=Wed, 01 Jan 2031 00:00:00 GMT',
    );
    headers.append('Set-Cookie', 'tracking=1; Path=/');
    expect(sessionSetCookiesOf(headers)).toEqual([
      'kiln_session=tok; Path=/; HttpOnly; SameSite=Lax; Expires=Wed, 01 Jan 2031 00:00:00 GMT',
    ]);
  });

  it('puts several lines on one answer without joining them', () => {
    const headers = withSetCookies(['kiln_session=a; Path=/', 'kiln_session=b; Path=/'], {
      location: '/studio',
    });
    expect(headers.getSetCookie()).toEqual(['kiln_session=a; Path=/', 'kiln_session=b; Path=/']);
    expect(headers.get('location')).toBe('/studio');
  });
});

describe('the error envelope as a message', () => {
  it('says how many more credits a 402 needs', () => {
    const problem = problemOf(
      402,
      envelope('insufficient_credits', 'not enough credits', { required: 12, available: 5, shortfall: 7 }),
    );
    expect(problem).toMatchObject({
      status: 402,
      code: 'insufficient_credits',
      shortfall: 7,
      correlationId: 'corr-1',
    });
    expect(problem.message).toBe('You need 7 more credits. This costs 12 credits and you have 5.');
    expect(problemOf(402, envelope('insufficient_credits', 'x', { shortfall: 1 })).message).toBe(
      'You need 1 more credit.',
    );
  });

  it('names each field of a validation error by the body field', () => {
    const problem = problemOf(
      400,
      envelope('validation_failed', 'invalid request', [
        { path: 'body.email', message: 'an email address, like ana@example.com' },
        { path: 'body.password', message: 'at least 10 characters' },
        { path: 'body.request.width', message: 'too big' },
      ]),
    );
    expect(problem.fields).toEqual({
      email: 'an email address, like ana@example.com',
      password: 'at least 10 characters',
      'request.width': 'too big',
    });
    expect(problem.message).toContain('password: at least 10 characters');
  });

  it('adds when to try again to a 429', () => {
    expect(problemOf(429, envelope('rate_limited', 'Too many requests.'), '30').message).toBe(
      'Too many requests. Try again in 30 seconds.',
    );
  });

  it('never shows what a 500 or a stranger says', () => {
    const internal = problemOf(
      500,
      envelope('internal', 'TypeError: x is undefined\n    at foo (/srv/a.ts:1:1)'),
    );
    expect(internal.message).not.toMatch(/TypeError|\/srv/);
    expect(internal.correlationId).toBe('corr-1');
    const html = problemOf(502, '<html>Bad Gateway</html>');
    expect(html).toMatchObject({ code: 'bad_answer', correlationId: null });
    expect(html.message).toContain('HTTP 502');
    expect(problemOf(500, { stack: 'Error: boom\n at x' }).message).not.toContain('boom');
  });
});

describe('calling a service', () => {
  let server: Server;
  let base = '';
  const seen: { method: string; url: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
        if (req.url === '/v1/accounts/sign-in') {
          res.setHeader('Set-Cookie', ['kiln_session=new-token; Path=/; HttpOnly; SameSite=Lax', 'other=1']);
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ ok: true, data: { user: { id: 'u1' } } }));
        } else if (req.url === '/v1/jobs') {
          res.statusCode = 402;
          res.setHeader('content-type', 'application/json');
          res.end(
            JSON.stringify(
              envelope('insufficient_credits', 'no', { required: 3, available: 0, shortfall: 3 }),
            ),
          );
        } else {
          res.statusCode = 500;
          res.end('Internal Server Error');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("sends the browser's session and JSON body, and hands back the session Set-Cookie", async () => {
    const request = new Request('http://web.test/sign-in', {
      headers: { cookie: 'theme=dark; kiln_session=old', 'x-correlation-id': 'corr-web' },
    });
    const answer = await callService<{ user: { id: string } }>(base, '/v1/accounts/sign-in', {
      method: 'POST',
      request,
      body: { email: 'a@b.c', password: 'x' },
    });
    expect(answer).toMatchObject({ ok: true, status: 200, data: { user: { id: 'u1' } } });
    expect(answer.setCookies).toEqual(['kiln_session=new-token; Path=/; HttpOnly; SameSite=Lax']);
    const call = seen.at(-1)!;
    expect(call.method).toBe('POST');
    expect(call.headers.cookie).toBe('kiln_session=old');
    expect(call.headers['x-correlation-id']).toBe('corr-web');
    expect(call.headers['content-type']).toBe('application/json');
    expect(JSON.parse(call.body)).toEqual({ email: 'a@b.c', password: 'x' });
  });

  it('sends no cookie without a session, and reads an error envelope', async () => {
    const answer = await callService(base, '/v1/jobs', {
      method: 'POST',
      request: new Request('http://web.test/studio'),
      headers: { 'idempotency-key': 'key-1' },
      body: {},
    });
    expect(answer.ok).toBe(false);
    if (answer.ok) return;
    expect(answer.problem).toMatchObject({ status: 402, shortfall: 3 });
    const call = seen.at(-1)!;
    expect(call.headers.cookie).toBeUndefined();
    expect(call.headers['idempotency-key']).toBe('key-1');
  });

  it('turns a non-JSON error into a message', async () => {
    const answer = await callService(base, '/nope');
    expect(answer).toMatchObject({ ok: false, status: 500, problem: { code: 'bad_answer' } });
  });

  it('says Kiln cannot be reached when nothing listens', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const answer = await callService(`http://127.0.0.1:${port}`, '/v1/models');
    expect(answer).toMatchObject({ ok: false, status: 503, problem: { code: 'unreachable' } });
  });
});

describe('configuration and redirects', () => {
  it('reads the services from the environment, with local defaults', () => {
    expect(serviceUrls({})).toEqual({
      command: 'http://127.0.0.1:4100',
      query: 'http://127.0.0.1:4200',
      hub: 'http://127.0.0.1:4400',
      media: 'http://127.0.0.1:4300',
    });
    expect(
      serviceUrls({
        COMMAND_URL: 'http://cmd:1/',
        QUERY_URL: 'http://q:2',
        HUB_URL: 'http://h:3',
        MEDIA_URL: 'http://m:4/',
      }),
    ).toEqual({
      command: 'http://cmd:1',
      query: 'http://q:2',
      hub: 'http://h:3',
      media: 'http://m:4',
    });
  });

  it('goes back only to a path of this app after signing in', () => {
    expect(safeNext('/studio?after=5')).toBe('/studio?after=5');
    expect(safeNext('https://evil.example/')).toBe('/studio');
    expect(safeNext('//evil.example/')).toBe('/studio');
    expect(safeNext('/\\evil.example')).toBe('/studio');
    expect(safeNext(null)).toBe('/studio');
  });
});
