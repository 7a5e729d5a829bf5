import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorEnvelope, httpStatusOfErrorCode, okEnvelope } from '@kiln/contracts/http/envelope';
import { routes } from '#src/http/contracts.ts';
import { IdempotencyKey } from '#src/http/mount.ts';
import type { RouteContract } from '#src/http/route.ts';
import {
  ADMIN,
  WEBHOOK_SECRET,
  startCommandService,
  type Answer,
  type CommandServiceUnderTest,
} from '#src/testing/harness.ts';

/**
 * Every route of the contract table gets bad input of many kinds, sent as a signed-in admin so that access
 * checks do not hide validation: each answer must be a 4xx in the error envelope (or, when the input
 * happens to be valid, the route's own success), and the service must still answer afterwards.
 */

type RouteName = keyof typeof routes;
/** 40 keeps the file well under a minute; `KILN_FUZZ_RUNS=1000` digs deeper by hand. */
const RUNS_PER_ROUTE = Number(process.env['KILN_FUZZ_RUNS'] ?? 40);

const IMAGE = {
  kind: 'image',
  modelId: 'kiln-local-image',
  prompt: 'a kiln',
  width: 512,
  height: 512,
  count: 1,
};
/** A 1×1 PNG: the smallest file the upload route keeps. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

type Fixture = {
  cookie: string;
  accountId: string;
  jobId: string;
  sessionId: string;
  tokenId: string;
  inviteToken: string;
};
type Example = { params?: Record<string, string>; body?: Record<string, unknown> };

/** A valid request per route: the starting point of the near-valid mutations. Typed by route name, so a new route needs one. */
const examplesOf = (fixture: Fixture): Record<RouteName, Example> => ({
  models: {},
  signUp: {
    body: { email: `fuzz-${randomUUID()}@kiln.test`, password: 'fuzz-password-1', displayName: 'Fuzz' },
  },
  signIn: { body: { ...ADMIN } },
  signOut: {},
  me: {},
  createToken: { body: { name: 'fuzz token' } },
  revokeToken: { params: { tokenId: fixture.tokenId } },
  requestJob: { body: { request: IMAGE } },
  cancelJob: { params: { jobId: fixture.jobId }, body: { reason: 'fuzzing' } },
  upload: {},
  grantCredits: { params: { accountId: fixture.accountId }, body: { amount: 5, reason: 'fuzz grant' } },
  adjustCredits: {
    params: { accountId: fixture.accountId },
    body: { amount: -1, reason: 'fuzz adjustment' },
  },
  paymentWebhook: {
    body: {
      type: 'payment.succeeded',
      data: { paymentId: 'pay_fuzz', accountId: fixture.accountId, credits: 5 },
    },
  },
  // Signed with the payment webhook's secret, never the provider's: every fuzzed delivery must be refused.
  providerWebhook: { params: { provider: 'local' }, body: { id: 'delivery', status: 'succeeded' } },
  openSession: { body: { title: 'fuzz session' } },
  inviteToSession: { params: { sessionId: fixture.sessionId } },
  joinSession: { body: { token: fixture.inviteToken } },
  leaveSession: { params: { sessionId: fixture.sessionId } },
  addJobToSession: { params: { sessionId: fixture.sessionId }, body: { jobId: fixture.jobId } },
});

/** One request to send, with what the oracle needs to judge its answer. */
type Attempt = {
  kind: string;
  path: string;
  /** The path parameters the route should read, before URL encoding; undefined when the path was written raw. */
  params: Record<string, string> | undefined;
  headers: Record<string, string>;
  body: string | Uint8Array | Multipart | undefined;
  /** The JSON value the route validates, when the body was sent as readable JSON. */
  json: { value: unknown } | undefined;
  /** The webhook signature to add when sending: a fresh one, one ten minutes old, or none. */
  sign: 'fresh' | 'stale' | 'none';
  /** A multipart upload of real images only, in the field "files". */
  images: boolean;
};
type Multipart = {
  parts: Array<{ field: string; bytes: Uint8Array; filename: string; type: string } | string>;
};

const pathWith = (route: RouteContract, params: Record<string, string>, encode = encodeURIComponent) =>
  route.path.replace(/:([A-Za-z0-9_]+)/g, (_match, name: string) => encode(params[name] ?? ''));

/** What body-parser makes of a JSON body (strict: an object or an array, after a BOM; an empty body is `{}`). */
const jsonOfText = (text: string): { value: unknown } | undefined => {
  if (text === '') return { value: {} };
  const json = text.replace(/^\ufeff/, '');
  if (!/^[\t\n\r ]*[[{]/.test(json)) return undefined;
  try {
    return { value: JSON.parse(json) as unknown };
  } catch {
    return undefined;
  }
};

// ---- arbitraries ---------------------------------------------------------------------------------------

const latin1Header = fc.string({
  unit: fc
    .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09))
    .map((code) => String.fromCharCode(code)),
  maxLength: 300,
});
const headerValue = fc.oneof(
  latin1Header,
  fc.constantFrom('', ' ', 'x', 'short', 'x'.repeat(201), 'a b c d e f', 'key\twith\ttabs', 'ü'.repeat(20)),
  fc.uuid(),
);
const wrongType = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
);
const hugeString = fc.oneof(
  fc.integer({ min: 201, max: 120_000 }).map((length) => 'x'.repeat(length)),
  fc.integer({ min: 100, max: 30_000 }).map((length) => '🔥'.repeat(length)),
);
const oddNumber = fc.oneof(
  fc.constantFrom(
    -1,
    0,
    -0.5,
    0.5,
    1.5,
    -1_000_000_001,
    1_000_000_001,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    -(2 ** 53),
    Number.MAX_VALUE,
    -Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
);
/** Number literals JSON allows but a double cannot hold: written into the body text verbatim. */
const rawNumber = fc.constantFrom(
  '1e999',
  '-1e999',
  '123456789012345678901234567890',
  '1e-400',
  '9007199254740993',
);
const nastyString = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202e',
  '\r\n',
  '../../../etc/passwd',
  '%00',
  "' or 1=1; --",
  '<script>alert(1)</script>',
  '${7*7}',
  '__proto__',
  'null',
  '🔥'.repeat(64),
  'e\u0301',
  '\ufeff',
);
const unknownKey = fc.oneof(
  fc.string(),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'cost', 'role'),
);

type Mutation =
  | { op: 'set'; value: unknown }
  | { op: 'raw'; text: string }
  | { op: 'delete' }
  | { op: 'extra'; key: string; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  wrongType.map((value) => ({ op: 'set', value }) as const),
  hugeString.map((value) => ({ op: 'set', value }) as const),
  oddNumber.map((value) => ({ op: 'set', value }) as const),
  nastyString.map((value) => ({ op: 'set', value }) as const),
  rawNumber.map((text) => ({ op: 'raw', text }) as const),
  fc.constant({ op: 'delete' } as const),
  fc
    .tuple(unknownKey, fc.jsonValue({ maxDepth: 2 }))
    .map(([key, value]) => ({ op: 'extra', key, value }) as const),
);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Every key path in a body, objects included: `request`, `request.width`... */
const keyPaths = (value: unknown, prefix: string[] = []): string[][] =>
  isRecord(value)
    ? Object.entries(value).flatMap(([key, inner]) => [
        [...prefix, key],
        ...keyPaths(inner, [...prefix, key]),
      ])
    : [];

const RAW = '\u0001raw-number\u0001';
/** The body's JSON text with one field changed (an own property even for `__proto__`). */
const mutated = (body: Record<string, unknown>, path: string[], change: Mutation): string => {
  const copy = structuredClone(body);
  const parent = path.slice(0, -1).reduce<Record<string, unknown>>((node, key) => node[key] as never, copy);
  const key = path.at(-1);
  const define = (target: Record<string, unknown>, name: string, value: unknown) =>
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  if (change.op === 'extra') define(parent, change.key, change.value);
  else if (key === undefined) return JSON.stringify(change.op === 'set' ? change.value : {});
  else if (change.op === 'delete') delete parent[key];
  else define(parent, key, change.op === 'set' ? change.value : RAW);
  const text = JSON.stringify(copy);
  return change.op === 'raw' ? text.replace(JSON.stringify(RAW), change.text) : text;
};

const paramValue = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
  fc.string({ minLength: 65, maxLength: 2_000 }),
  fc.constantFrom(
    '../',
    '../../etc/passwd',
    '..\\..\\windows',
    '..',
    '%2e%2e',
    ' ',
    '\u0000',
    'ü',
    '😀',
    '\u202e',
    'a/b',
    'a?b=c',
    'a#b',
    "' or 1=1 --",
    'x'.repeat(65),
    `j_${'x'.repeat(62)}`,
  ),
);
/** Percent escapes that do not decode: written into the path as they are. */
const brokenEscape = fc.constantFrom(
  '%',
  '%zz',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%FF',
  '%%',
  'a%2',
  '%u0041',
);

const wrongContentType = fc.oneof(
  fc.constantFrom(
    'text/plain',
    'text/json',
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    'multipart/form-data; boundary=fuzz',
    'application/xml',
    'application/octet-stream',
    'application/json; charset=latin-9',
    'application/json; charset=utf-16',
    'image/png',
    '*/*',
    'application/',
    ';;;',
    'application/json, text/plain',
  ),
  latin1Header.filter((type) => !/json/i.test(type)),
);

const multipartPart = fc.oneof(
  fc.record({
    field: fc.oneof(fc.constantFrom('files', 'file', 'files[]', ''), fc.string({ maxLength: 20 })),
    bytes: fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.constant(new Uint8Array(PNG))),
    filename: fc.oneof(
      fc.string(),
      fc.constantFrom('../../etc/passwd', '..\\x.png', 'ü.png', '', 'a\u0000.png'),
    ),
    type: fc.constantFrom('image/png', 'text/plain', 'application/octet-stream', ''),
  }),
  fc.string({ maxLength: 100 }),
);

// ---- the service ----------------------------------------------------------------------------------------

let kiln: CommandServiceUnderTest;
let fixture: Fixture;
let examples: Record<RouteName, Example>;
const webhook = new Webhook(WEBHOOK_SECRET);

const expectStatus = (answer: Answer, status: number) =>
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);

beforeAll(async () => {
  kiln = await startCommandService();
  const signedIn = await kiln.call('POST', '/v1/accounts/sign-in', { body: ADMIN });
  expectStatus(signedIn, 200);
  const cookie = kiln.cookieOf(signedIn);
  const accountId = signedIn.body.data.user.accountId as string;
  await kiln.grant(accountId, 1_000_000);
  const job = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: { request: IMAGE },
  });
  expectStatus(job, 202);
  const session = await kiln.call('POST', '/v1/sessions', { cookie, body: { title: 'fuzzed' } });
  expectStatus(session, 201);
  const sessionId = session.body.data.sessionId as string;
  const token = await kiln.call('POST', '/v1/accounts/tokens', { cookie, body: { name: 'fuzzed' } });
  expectStatus(token, 201);
  const invite = await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, { cookie });
  expectStatus(invite, 201);
  fixture = {
    cookie,
    accountId,
    jobId: job.body.data.jobId,
    sessionId,
    tokenId: token.body.data.id,
    inviteToken: invite.body.data.token,
  };
  examples = examplesOf(fixture);
});
afterAll(async () => kiln?.stop());

const freshAdminCookie = async () =>
  kiln.cookieOf(await kiln.call('POST', '/v1/accounts/sign-in', { body: ADMIN }));

const signatureHeaders = (payload: string, sign: 'fresh' | 'stale') => {
  const id = `msg_${randomUUID()}`;
  const at = new Date(Date.now() - (sign === 'stale' ? 10 * 60_000 : 0));
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': webhook.sign(id, at, payload),
  };
};

const formDataOf = ({ parts }: Multipart): FormData => {
  const form = new FormData();
  for (const part of parts) {
    if (typeof part === 'string') form.append('note', part);
    else form.append(part.field, new Blob([new Uint8Array(part.bytes)], { type: part.type }), part.filename);
  }
  return form;
};

const send = async (name: RouteName, attempt: Attempt): Promise<Answer> => {
  const route: RouteContract = routes[name];
  const headers = { ...attempt.headers };
  let body: string | Uint8Array | FormData | undefined =
    attempt.body && typeof attempt.body === 'object' && 'parts' in attempt.body
      ? formDataOf(attempt.body)
      : attempt.body;
  if (route.access === 'signed-webhook') {
    if (attempt.sign !== 'none')
      Object.assign(headers, signatureHeaders(typeof body === 'string' ? body : '', attempt.sign));
  } else {
    headers['cookie'] = name === 'signOut' ? await freshAdminCookie() : fixture.cookie;
  }
  if (body instanceof Uint8Array) body = new Uint8Array(body);
  return kiln.call(route.method.toUpperCase(), attempt.path, { headers, raw: body });
};

/** Could a correct service answer this attempt with success? Only when every part of it is valid. */
const couldSucceed = (route: RouteContract, attempt: Attempt): boolean => {
  if (route.params && !(attempt.params && route.params.safeParse(attempt.params).success)) return false;
  const key = attempt.headers['idempotency-key']?.replace(/^[\t ]+|[\t ]+$/g, '');
  if (route.idempotent && !IdempotencyKey.safeParse(key).success) return false;
  if (route.access === 'signed-webhook' && attempt.sign !== 'fresh') return false;
  if (route.bodyKind === 'multipart') return attempt.images;
  if (route.body) return attempt.json !== undefined && route.body.safeParse(attempt.json.value).success;
  return true;
};

const describeAttempt = (route: RouteContract, attempt: Attempt, answer: Answer) =>
  `${route.method.toUpperCase()} ${attempt.path.slice(0, 300)} [${attempt.kind}] ` +
  `headers=${JSON.stringify(attempt.headers).slice(0, 300)} ` +
  `body=${typeof attempt.body === 'string' ? JSON.stringify(attempt.body.slice(0, 300)) : typeof attempt.body} ` +
  `→ ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`;

const judge = (route: RouteContract, attempt: Attempt, answer: Answer) => {
  const what = describeAttempt(route, attempt, answer);
  if (answer.status >= 200 && answer.status < 300) {
    expect(couldSucceed(route, attempt), `success for input that is not valid: ${what}`).toBe(true);
    expect(answer.status, what).toBe(route.success.status);
    expect(okEnvelope(route.success.data).safeParse(answer.body).success, what).toBe(true);
    return;
  }
  expect(answer.status, what).toBeGreaterThanOrEqual(400);
  expect(answer.status, what).toBeLessThan(500);
  const envelope = ErrorEnvelope.safeParse(answer.body);
  expect(envelope.success, `not the error envelope: ${what}`).toBe(true);
  expect(httpStatusOfErrorCode[envelope.data!.error.code], what).toBe(answer.status);
  expect(envelope.data!.error.correlationId, what).toBe(answer.headers.get('x-correlation-id'));
};

// ---- attempts per route ---------------------------------------------------------------------------------

const attemptsFor = (name: RouteName): fc.Arbitrary<Attempt> => {
  const route: RouteContract = routes[name];
  const example = examples[name];
  const params = example.params ?? {};
  const exampleBody = example.body ?? {};
  const exampleText = JSON.stringify(exampleBody);
  const path = pathWith(route, params);
  const sign = route.access === 'signed-webhook' ? ('fresh' as const) : ('none' as const);
  const baseHeaders = (): Record<string, string> =>
    route.idempotent ? { 'idempotency-key': randomUUID() } : {};
  const attempt = (kind: string, parts: Partial<Attempt>): Attempt => ({
    kind,
    path,
    params,
    headers: baseHeaders(),
    body: undefined,
    json: undefined,
    sign,
    images: false,
    ...parts,
  });
  const jsonText = (kind: string, text: string, extra: Partial<Attempt> = {}): Attempt =>
    attempt(kind, {
      headers: { ...baseHeaders(), 'content-type': 'application/json' },
      body: text,
      json: jsonOfText(text),
      ...extra,
    });

  /** The example body, for attempts that change something else; GET routes take no body. */
  const withExampleBody = (headers: Record<string, string>): Partial<Attempt> =>
    route.method === 'get'
      ? { headers }
      : {
          headers: { ...headers, 'content-type': 'application/json' },
          body: exampleText,
          json: { value: exampleBody },
        };

  // Weighted towards the inputs closest to valid ones, which reach deepest into the handlers.
  const generators: Array<fc.MaybeWeightedArbitrary<Attempt>> = [
    fc
      .record({ key: fc.option(headerValue), correlation: fc.option(headerValue) })
      .map(({ key, correlation }) =>
        attempt(
          'odd headers',
          withExampleBody({
            ...baseHeaders(),
            ...(key === null ? {} : { 'idempotency-key': key }),
            ...(correlation === null ? {} : { 'x-correlation-id': correlation }),
          }),
        ),
      ),
    fc
      .oneof(
        fc
          .tuple(fc.string(), fc.string({ unit: 'binary' }))
          .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`),
        brokenEscape,
        fc.constantFrom('a[b][c][d][e][f]=1', 'a=1&a=2&a=3', `${'a=1&'.repeat(2_000)}b=2`, '__proto__[x]=1'),
      )
      .map((query) =>
        attempt('query string', { path: `${path}?${query}`, ...withExampleBody(baseHeaders()) }),
      ),
  ];

  if (route.method !== 'get') {
    const paths = keyPaths(exampleBody);
    generators.push(
      {
        weight: 2,
        arbitrary: fc
          .oneof(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' }))
          .map((value) => jsonText('any JSON value', JSON.stringify(value))),
      },
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.constantFrom(...(paths.length > 0 ? paths : [[]])), mutation)
          .map(([at, change]) =>
            jsonText(`near-valid: ${change.op} ${at.join('.')}`, mutated(exampleBody, at, change)),
          ),
      },
      fc
        .oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.constantFrom(
            '',
            ' ',
            '{',
            '}',
            '{"a":',
            "{'a': 1}",
            '[1,]',
            '{"a":1,}',
            'nul',
            'undefined',
            '{"a":NaN}',
            '{"a":Infinity}',
            '{"a":"\\x41"}',
            '{"a":1}{"b":2}',
            '\u0000',
            '{"\u0000":1}',
            '\ufeff{}',
            '1',
            '"text"',
            'true',
            'null',
            `{"a":${'['.repeat(45_000)}${']'.repeat(45_000)}}`,
          ),
          fc.nat().map((cut) => exampleText.slice(0, cut % Math.max(1, exampleText.length))),
        )
        .map((text) => jsonText('malformed JSON', text)),
      wrongContentType.map((type) =>
        attempt(`content type ${JSON.stringify(type)}`, {
          headers: { ...baseHeaders(), 'content-type': type },
          body: exampleText,
          // The webhook reads the raw bytes of any application/json body, whatever charset it names.
          json:
            route.access === 'signed-webhook' &&
            type.split(';')[0]?.trim().toLowerCase() === 'application/json'
              ? { value: exampleBody }
              : undefined,
        }),
      ),
      fc
        .constant(null)
        .map(() =>
          attempt('no content type', { body: new TextEncoder().encode(exampleText), json: undefined }),
        ),
      fc
        .constantFrom('gzip', 'deflate', 'br', 'identity', 'compress', 'x-unknown', 'gzip, gzip')
        .map((encoding) =>
          attempt(`content encoding ${encoding}`, {
            headers: { ...baseHeaders(), 'content-type': 'application/json', 'content-encoding': encoding },
            body: exampleText,
            json: encoding === 'identity' ? { value: exampleBody } : undefined,
          }),
        ),
      fc.jsonValue({ maxDepth: 3 }).map((value) =>
        attempt('gzipped JSON', {
          headers: { ...baseHeaders(), 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: new Uint8Array(gzipSync(JSON.stringify(value))),
          json: jsonOfText(JSON.stringify(value)),
        }),
      ),
    );
  }

  if (route.params) {
    const names = Object.keys(params);
    generators.push(
      {
        weight: 3,
        arbitrary: fc.tuple(fc.constantFrom(...names), paramValue).map(([param, value]) => {
          const odd = { ...params, [param]: value };
          return attempt(`param ${param}`, {
            path: pathWith(route, odd),
            params: odd,
            ...withExampleBody(baseHeaders()),
          });
        }),
      },
      fc.tuple(fc.constantFrom(...names), brokenEscape).map(([param, raw]) =>
        attempt(`raw param ${param}`, {
          path: pathWith(route, params, (value) =>
            value === params[param] ? raw : encodeURIComponent(value),
          ),
          params: undefined,
          ...withExampleBody(baseHeaders()),
        }),
      ),
    );
  }

  if (route.access === 'signed-webhook') {
    const timestamp = fc.oneof(
      latin1Header,
      fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map(String),
      fc.constantFrom('NaN', '1e10', '-1', '0', String(Math.floor(Date.now() / 1000))),
    );
    const signature = fc.oneof(
      latin1Header,
      fc.base64String({ maxLength: 60 }).map((sig) => `v1,${sig}`),
      fc.constantFrom('v1,', 'v1a,abc', ',', 'v1,AAAA v1,BBBB', 'v2,aGVsbG8='),
    );
    generators.push(
      fc
        .record({
          id: fc.option(latin1Header),
          timestamp: fc.option(timestamp),
          signature: fc.option(signature),
        })
        .map(({ id, timestamp: at, signature: sig }) =>
          attempt('random signature', {
            headers: {
              'content-type': 'application/json',
              ...(id === null ? {} : { 'webhook-id': id }),
              ...(at === null ? {} : { 'webhook-timestamp': at }),
              ...(sig === null ? {} : { 'webhook-signature': sig }),
            },
            body: exampleText,
            json: { value: exampleBody },
            sign: 'none',
          }),
        ),
      fc.constant(null).map(() => jsonText('stale signature', exampleText, { sign: 'stale' })),
    );
  }

  if (route.bodyKind === 'multipart') {
    generators.push(
      fc.array(multipartPart, { maxLength: 4 }).map((parts) =>
        attempt('random multipart', {
          body: { parts },
          images:
            parts.length > 0 &&
            parts.every(
              (part) =>
                typeof part !== 'string' && part.field === 'files' && Buffer.from(part.bytes).equals(PNG),
            ),
        }),
      ),
      fc
        .array(
          fc.oneof(
            fc.string(),
            fc.constantFrom('../../etc/passwd', 'ü.png', '', 'a\u0000.png', 'x'.repeat(300)),
          ),
          {
            minLength: 1,
            maxLength: 3,
          },
        )
        .map((names) =>
          attempt('images with odd names', {
            body: {
              parts: names.map((filename) => ({
                field: 'files',
                bytes: new Uint8Array(PNG),
                filename,
                type: 'image/png',
              })),
            },
            images: true,
          }),
        ),
      fc
        .oneof(
          fc.string(),
          fc.constantFrom(
            '--fuzz\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\nabc',
            '--fuzz\r\nContent-Disposition: form-data\r\n\r\nabc\r\n--fuzz--',
            '--fuzz\r\n\r\n\r\n--fuzz--',
            '--fuzz--',
            '--other\r\nContent-Disposition: form-data; name="files"\r\n\r\nx\r\n--other--',
          ),
        )
        .map((text) =>
          attempt('malformed multipart', {
            headers: { 'content-type': 'multipart/form-data; boundary=fuzz' },
            body: text,
          }),
        ),
    );
  }
  return fc.oneof(...generators);
};

// ---- the tests -------------------------------------------------------------------------------------------

const errorLogLines = () =>
  kiln.logLines.filter((line) => {
    try {
      return (JSON.parse(line) as { level?: number }).level! >= 50;
    } catch {
      return true;
    }
  });

describe('every HTTP route answers bad input with the error envelope and a 4xx, never a 5xx or a crash', () => {
  it('starts from a valid example of every route', () => {
    for (const [name, route] of Object.entries(routes) as Array<[RouteName, RouteContract]>) {
      const example = examples[name];
      if (route.params) expect(route.params.safeParse(example.params).success, name).toBe(true);
      if (route.body && route.bodyKind !== 'multipart')
        expect(route.body.safeParse(example.body).success, name).toBe(true);
    }
  });

  for (const name of Object.keys(routes) as RouteName[]) {
    const route: RouteContract = routes[name];
    it(`${route.method.toUpperCase()} ${route.path}`, async () => {
      const errorsBefore = errorLogLines().length;
      await fc.assert(
        fc.asyncProperty(attemptsFor(name), async (attempt) =>
          judge(route, attempt, await send(name, attempt)),
        ),
        { numRuns: RUNS_PER_ROUTE },
      );
      const health = await kiln.call('GET', '/healthz');
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ ok: true, data: { status: 'ok' } });
      expect(errorLogLines().slice(errorsBefore)).toEqual([]);
    });
  }
});

describe('requests outside every route', () => {
  const expectProblem = (answer: Answer, statuses: number[], code?: string) => {
    expect(statuses, JSON.stringify(answer.body)).toContain(answer.status);
    const envelope = ErrorEnvelope.parse(answer.body);
    expect(envelope.error.correlationId).toBe(answer.headers.get('x-correlation-id'));
    if (code) expect(envelope.error.code).toBe(code);
  };

  it('answers an unknown route with 404 in the envelope', async () => {
    for (const [method, path] of [
      ['GET', '/v1/nothing-here'],
      ['POST', '/v1/jobs/j_1/uncancel'],
      ['GET', '/'],
      ['DELETE', '/v1/models'],
    ] as const) {
      expectProblem(await kiln.call(method, path, { cookie: fixture.cookie }), [404], 'not_found');
    }
  });

  it('answers PUT and PATCH on a POST route with 404 or 405 in the envelope', async () => {
    for (const method of ['PUT', 'PATCH']) {
      const answer = await kiln.call(method, '/v1/jobs', {
        cookie: fixture.cookie,
        headers: { 'idempotency-key': randomUUID() },
        body: { request: IMAGE },
      });
      expectProblem(answer, [404, 405]);
    }
  });

  it('refuses a body of 200 KB with 413 in the envelope', async () => {
    const big = { title: 'x'.repeat(200 * 1024) };
    expectProblem(
      await kiln.call('POST', '/v1/sessions', { cookie: fixture.cookie, body: big }),
      [413],
      'payload_too_large',
    );
    expectProblem(
      await kiln.call('POST', '/v1/jobs', {
        cookie: fixture.cookie,
        headers: { 'idempotency-key': randomUUID() },
        body: { request: { ...IMAGE, prompt: 'x'.repeat(200 * 1024) } },
      }),
      [413],
      'payload_too_large',
    );
    const payload = JSON.stringify({ ...examples.paymentWebhook.body, padding: 'x'.repeat(200 * 1024) });
    expectProblem(
      await kiln.call('POST', '/v1/webhooks/payments', {
        headers: { 'content-type': 'application/json', ...signatureHeaders(payload, 'fresh') },
        raw: payload,
      }),
      [413],
      'payload_too_large',
    );
    expect((await kiln.call('GET', '/healthz')).status).toBe(200);
  });
});
