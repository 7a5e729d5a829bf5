// The web app's only way to Kiln's services: server side, from loaders and actions. The browser's session
// cookie goes along; a Set-Cookie a service answers with comes back to the browser.
import type { ApiError } from '@kiln/contracts/http/envelope';

export const SESSION_COOKIE = 'kiln_session';

export type ServiceUrls = { command: string; query: string; hub: string; media: string };

/** Where Kiln's services are, from the environment (read when a request needs them). */
export const serviceUrls = (env: Record<string, string | undefined> = process.env): ServiceUrls => ({
  command: (env['COMMAND_URL'] ?? 'http://127.0.0.1:4100').replace(/\/+$/, ''),
  query: (env['QUERY_URL'] ?? 'http://127.0.0.1:4200').replace(/\/+$/, ''),
  hub: (env['HUB_URL'] ?? 'http://127.0.0.1:4400').replace(/\/+$/, ''),
  media: (env['MEDIA_URL'] ?? 'http://127.0.0.1:4300').replace(/\/+$/, ''),
});

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * A service's URL as the browser should reach it (the hub's socket, the media files). The session cookie
 * belongs to the name the page was opened by, and `localhost` and `127.0.0.1` are different sites to a
 * browser: on loopback the service is named as the page was, so the cookie goes along. Elsewhere the URL
 * is as configured.
 */
export const browserUrlOf = (serviceUrl: string, pageUrl: string): string => {
  const service = new URL(serviceUrl);
  const { hostname } = new URL(pageUrl);
  if (!LOOPBACK_NAMES.has(service.hostname) || !LOOPBACK_NAMES.has(hostname)) return serviceUrl;
  service.hostname = hostname;
  return service.toString().replace(/\/+$/, '');
};

/**
 * The `Cookie` header to send to a service: the browser's `kiln_session` cookie and nothing else (other
 * cookies of the web app's origin are none of the services' business). Null when there is none.
 */
export const sessionCookieOf = (cookieHeader: string | null | undefined): string | null => {
  if (!cookieHeader) return null;
  for (const pair of cookieHeader.split(';')) {
    const separator = pair.indexOf('=');
    if (separator < 0) continue;
    const name = pair.slice(0, separator).trim();
    const value = pair.slice(separator + 1).trim();
    if (name === SESSION_COOKIE && value !== '') return `${SESSION_COOKIE}=${value}`;
  }
  return null;
};

/** The session `Set-Cookie` lines of a service's answer, to hand to the browser as they are. */
export const sessionSetCookiesOf = (headers: Headers): string[] =>
  headers.getSetCookie().filter((line) => line.trimStart().startsWith(`${SESSION_COOKIE}=`));

/** Headers for a redirect or an answer of the web app that carries the services' Set-Cookie lines. */
export const withSetCookies = (setCookies: readonly string[], init: HeadersInit = {}): Headers => {
  const headers = new Headers(init);
  for (const line of setCookies) headers.append('Set-Cookie', line);
  return headers;
};

/** An error as the web app shows it: a sentence for a person, and what a page may need to act on it. */
export type Problem = {
  status: number;
  code: ApiError['code'] | 'unreachable' | 'bad_answer';
  message: string;
  correlationId: string | null;
  /** 402: the credits missing. */
  shortfall?: number;
  /** 400: which field is wrong, by the path the service named. */
  fields?: Record<string, string>;
};

export type ServiceAnswer<Data> =
  | { ok: true; status: number; data: Data; setCookies: string[] }
  | { ok: false; status: number; problem: Problem; setCookies: string[] };

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/**
 * The envelope's error as a message a person can act on: a 402 says how many more credits are needed, a
 * validation error names each field. Never a stack trace, whatever a service sends.
 */
export const problemOf = (status: number, body: unknown, retryAfter?: string | null): Problem => {
  const error = isRecord(body) && body['ok'] === false && isRecord(body['error']) ? body['error'] : null;
  if (!error || typeof error['code'] !== 'string' || typeof error['message'] !== 'string') {
    return {
      status,
      code: 'bad_answer',
      message: `Kiln answered in a way this page does not understand (HTTP ${status}). Try again in a moment.`,
      correlationId: null,
    };
  }
  const code = error['code'] as ApiError['code'];
  const correlationId = typeof error['correlationId'] === 'string' ? error['correlationId'] : null;
  const details = error['details'];
  const problem: Problem = { status, code, message: error['message'], correlationId };

  if (code === 'insufficient_credits' && isRecord(details) && typeof details['shortfall'] === 'number') {
    const shortfall = details['shortfall'];
    problem.shortfall = shortfall;
    problem.message = `You need ${plural(shortfall, 'more credit', 'more credits')}.`;
    if (typeof details['required'] === 'number' && typeof details['available'] === 'number') {
      problem.message += ` This costs ${plural(details['required'], 'credit', 'credits')} and you have ${details['available']}.`;
    }
  } else if (code === 'validation_failed' && Array.isArray(details)) {
    const fields: Record<string, string> = {};
    for (const entry of details) {
      if (isRecord(entry) && typeof entry['path'] === 'string' && typeof entry['message'] === 'string') {
        // `body.email` → `email`; the page's fields are named after the body's.
        const field = entry['path'].replace(/^(body|query|params|headers)\.?/, '') || 'form';
        fields[field] ??= entry['message'];
      }
    }
    problem.fields = fields;
    const list = Object.entries(fields).map(([field, message]) => `${field}: ${message}`);
    if (list.length > 0) problem.message = `Please check the form. ${list.join('; ')}.`;
  } else if (code === 'rate_limited' || code === 'too_many_active_jobs') {
    const seconds = retryAfter ? Number.parseInt(retryAfter, 10) : Number.NaN;
    if (Number.isFinite(seconds) && seconds > 0) {
      problem.message += ` Try again in ${plural(seconds, 'second', 'seconds')}.`;
    }
  } else if (code === 'internal') {
    // Whatever went wrong inside stays there: the reference lets someone find the log line.
    problem.message = 'Something went wrong on our side. Try again in a moment.';
  }
  return problem;
};

export type CallOptions = {
  method?: 'GET' | 'POST' | 'DELETE';
  /** The browser's request: its session cookie is forwarded. */
  request?: Request;
  /** JSON, or a FormData sent as multipart (uploads). */
  body?: unknown;
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  timeoutMs?: number;
};

/** Calls one of Kiln's services and reads its envelope; a service that cannot be reached is a Problem too. */
export const callService = async <Data>(
  baseUrl: string,
  path: string,
  options: CallOptions = {},
): Promise<ServiceAnswer<Data>> => {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  const cookie = sessionCookieOf(options.request?.headers.get('cookie'));
  if (cookie) headers['cookie'] = cookie;
  const correlationId = options.request?.headers.get('x-correlation-id');
  if (correlationId) headers['x-correlation-id'] = correlationId;
  let body: string | FormData | undefined;
  if (options.body instanceof FormData) {
    // multipart: fetch writes the content type with its boundary
    body = options.body;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const doFetch = options.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(`${baseUrl}${path}`, {
      method: options.method ?? 'GET',
      headers,
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      ...(body !== undefined ? { body } : {}),
    });
  } catch {
    return {
      ok: false,
      status: 503,
      problem: {
        status: 503,
        code: 'unreachable',
        message: 'Kiln cannot be reached right now. Try again in a moment.',
        correlationId: null,
      },
      setCookies: [],
    };
  }
  const setCookies = sessionSetCookiesOf(response.headers);
  let parsed: unknown = null;
  try {
    parsed = await response.json();
  } catch {
    // not JSON: problemOf says so
  }
  if (response.ok && isRecord(parsed) && parsed['ok'] === true && 'data' in parsed) {
    return { ok: true, status: response.status, data: parsed['data'] as Data, setCookies };
  }
  return {
    ok: false,
    status: response.status,
    problem: problemOf(response.status, parsed, response.headers.get('retry-after')),
    setCookies,
  };
};

/** The services, bound to their URLs: `kiln().command('/v1/models')`. */
export const kiln = (urls: ServiceUrls = serviceUrls()) => ({
  urls,
  command: <Data>(path: string, options?: CallOptions) => callService<Data>(urls.command, path, options),
  query: <Data>(path: string, options?: CallOptions) => callService<Data>(urls.query, path, options),
});
