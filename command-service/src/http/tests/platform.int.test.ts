import { randomUUID } from 'node:crypto';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpStatusOfErrorCode } from '@kiln/contracts/http/envelope';
import { routes } from '#src/http/contracts.ts';
import type { RouteContract } from '#src/http/route.ts';
import { startCommandService, type Answer, type CommandServiceUnderTest } from '#src/testing/harness.ts';

const IMAGE = {
  kind: 'image',
  modelId: 'kiln-local-image',
  prompt: 'a kiln',
  width: 512,
  height: 512,
  count: 1,
};
/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
  'base64',
);

const expectStatus = (answer: Answer, status: number) =>
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);

describe('health, readiness, metrics and the OpenAPI document', () => {
  let kiln: CommandServiceUnderTest;
  beforeAll(async () => {
    kiln = await startCommandService();
  });
  afterAll(async () => kiln?.stop());

  it('GET /healthz answers 200 in the envelope', async () => {
    const answer = await kiln.call('GET', '/healthz');
    expectStatus(answer, 200);
    expect(answer.body).toEqual({ ok: true, data: { status: 'ok' } });
    expect(answer.headers.get('x-correlation-id')).toEqual(expect.any(String));
  });

  it('GET /readyz answers 200 with the event store, the database and Redis ok', async () => {
    const answer = await kiln.call('GET', '/readyz');
    expectStatus(answer, 200);
    expect(answer.body).toEqual({
      ok: true,
      data: { status: 'ok', checks: { eventStore: 'ok', database: 'ok', redis: 'ok' } },
    });
  });

  /** `http_request_duration_seconds_count` series: their labels and counts. */
  const requestCounts = async () => {
    const answer = await kiln.call('GET', '/metrics');
    expectStatus(answer, 200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = answer.body as string;
    const series = [...text.matchAll(/^http_request_duration_seconds_count\{([^}]*)\} (\d+)$/gm)].map(
      ([, labels = '', count]) => ({
        labels: Object.fromEntries(
          [...labels.matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]),
        ) as Record<string, string>,
        count: Number(count),
      }),
    );
    return { text, series };
  };

  it('GET /metrics counts a job request under its route pattern, never its raw path', async () => {
    const jobsSeries = (series: Awaited<ReturnType<typeof requestCounts>>['series']) =>
      series.filter(({ labels }) => labels['route'] === '/v1/jobs');
    expect(jobsSeries((await requestCounts()).series)).toEqual([]);

    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const job = await kiln.call('POST', '/v1/jobs', {
      cookie,
      headers: { 'idempotency-key': randomUUID() },
      body: { request: IMAGE },
    });
    expectStatus(job, 202);
    const jobId = job.body.data.jobId as string;
    expectStatus(await kiln.call('POST', `/v1/jobs/${jobId}/cancel`, { cookie, body: {} }), 202);

    const { text, series } = await requestCounts();
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(text).toMatch(/^http_request_duration_seconds_bucket\{[^}]*route="\/v1\/jobs"[^}]*\} \d+$/m);
    expect(jobsSeries(series)).toEqual([
      {
        labels: { service: 'command-service', method: 'POST', route: '/v1/jobs', status: '202' },
        count: 1,
      },
    ]);
    expect(series.map(({ labels }) => labels['route'])).toContain('/v1/jobs/:jobId/cancel');
    expect(text).not.toContain(jobId);
  });

  describe('GET /v1/openapi.json', () => {
    let document: any;
    beforeAll(async () => {
      const answer = await kiln.call('GET', '/v1/openapi.json');
      expectStatus(answer, 200);
      document = answer.body;
    });

    it('is a valid OpenAPI 3.1 document', async () => {
      expect(document.openapi).toBe('3.1.0');
      expect(document.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
      const result = await validate(structuredClone(document));
      expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    });

    const operations = Object.values(routes) as RouteContract[];
    const openApiPathOf = (path: string) => path.replace(/:(\w+)/g, '{$1}');

    it('documents exactly the routes of the contract table', () => {
      const methods = new Set(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']);
      const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
        ([path, item]) =>
          Object.keys(item)
            .filter((key) => methods.has(key))
            .map((method) => `${method} ${path}`),
      );
      expect(documented.sort()).toEqual(
        operations.map((route) => `${route.method} ${openApiPathOf(route.path)}`).sort(),
      );
    });

    it.each(operations.map((route) => [`${route.method.toUpperCase()} ${route.path}`, route] as const))(
      '%s: its parameters, body, security and every success and error status',
      (_name, route) => {
        const operation = document.paths[openApiPathOf(route.path)]?.[route.method];
        expect(operation).toBeDefined();
        const parameters = (operation.parameters ?? []) as Array<{
          in: string;
          name: string;
          required?: boolean;
        }>;
        for (const [, name] of route.path.matchAll(/:(\w+)/g))
          expect(parameters).toContainEqual(expect.objectContaining({ in: 'path', name, required: true }));
        if (route.idempotent)
          expect(parameters).toContainEqual(
            expect.objectContaining({ in: 'header', name: 'idempotency-key', required: true }),
          );

        const content = operation.requestBody?.content ?? {};
        if (route.bodyKind === 'multipart') expect(Object.keys(content)).toEqual(['multipart/form-data']);
        else if (route.body) expect(Object.keys(content)).toEqual(['application/json']);
        else expect(operation.requestBody).toBeUndefined();

        const signedIn = [{ session: [] }, { bearer: [] }];
        const security = {
          anyone: [],
          user: signedIn,
          admin: signedIn,
          'signed-webhook': [{ webhookSignature: [] }],
        };
        expect(operation.security).toEqual(security[route.access]);

        const responses = operation.responses as Record<string, { description: string; content?: any }>;
        const errorStatuses = new Set(route.errors.map((code) => httpStatusOfErrorCode[code]));
        expect(Object.keys(responses).sort()).toEqual(
          [route.success.status, ...errorStatuses, 500].map(String).sort(),
        );
        expect(responses[route.success.status]?.content?.['application/json']?.schema).toBeDefined();
        for (const code of route.errors) {
          const response = responses[httpStatusOfErrorCode[code]];
          expect(response?.description, `${code} is not documented`).toContain(code);
          const schema = response?.content?.['application/json']?.schema;
          expect(schema?.properties?.ok).toEqual({ type: 'boolean', const: false });
          expect(schema?.required).toEqual(expect.arrayContaining(['ok', 'error']));
        }
      },
    );
  });
});

describe('rate limits', () => {
  const limits = {
    JOB_CREATIONS_PER_MINUTE: '2',
    API_REQUESTS_PER_MINUTE: '30',
    UPLOADS_PER_MINUTE: '1',
    // Every request of this test comes from 127.0.0.1: each simulated client names its own address in
    // X-Forwarded-For, so that the per-address limit does not hide the per-user one.
    TRUST_PROXY: 'true',
  };
  let limited: CommandServiceUnderTest;
  /** A second instance of the same deployment: same users, same rate-limit budgets in Redis. */
  let replica: CommandServiceUnderTest;
  beforeAll(async () => {
    limited = await startCommandService(limits);
    replica = await startCommandService(limits, { replicaOf: limited });
  });
  afterAll(async () => {
    await replica?.stop();
    await limited?.stop();
  });

  let lastAddress = 0;
  /** A client address of its own (TEST-NET-3: a label in a header, never a destination). */
  const newAddress = () => {
    lastAddress += 1;
    return `203.0.113.${lastAddress}`;
  };
  const from = (address: string) => ({ 'x-forwarded-for': address });

  const signUpOn = async (kiln: CommandServiceUnderTest) => {
    const name = `limited-${randomUUID().slice(0, 8)}`;
    const answer = await kiln.call('POST', '/v1/accounts/sign-up', {
      headers: from(newAddress()),
      body: { email: `${name}@kiln.test`, password: `pw-${randomUUID()}`, displayName: name },
    });
    expectStatus(answer, 201);
    return {
      cookie: kiln.cookieOf(answer),
      user: answer.body.data.user as { id: string; accountId: string },
    };
  };

  const expectRateLimited = (answer: Answer, limit: number) => {
    expectStatus(answer, 429);
    expect(answer.body.error).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      details: { limit, windowSeconds: 60 },
    });
    const retryAfter = Number(answer.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  };

  it('refuses the third job creation of a user in a minute with 429 and Retry-After; another user gets through', async () => {
    const ana = await signUpOn(limited);
    const ben = await signUpOn(limited);
    await limited.grant(ana.user.accountId, 20);
    await limited.grant(ben.user.accountId, 20);
    const address = newAddress();
    const requestJob = (cookie: string, key = randomUUID()) =>
      limited.call('POST', '/v1/jobs', {
        cookie,
        headers: { ...from(address), 'idempotency-key': key },
        body: { request: IMAGE },
      });
    expectStatus(await requestJob(ana.cookie), 202);
    expectStatus(await requestJob(ana.cookie), 202);
    const refusedKey = randomUUID();
    expectRateLimited(await requestJob(ana.cookie, refusedKey), 2);
    // The refused request holds no claim on its key: a retry once the window has passed runs afresh.
    expect((await limited.service.idempotency.claim(ana.user.id, refusedKey, 'any')).kind).toBe('claimed');
    expectStatus(await requestJob(ben.cookie), 202);
  });

  it('answers a retry of an accepted job with its first answer past the limit, and counts no retry', async () => {
    const cara = await signUpOn(limited);
    await limited.grant(cara.user.accountId, 20);
    const address = newAddress();
    const requestJob = (key: string) =>
      limited.call('POST', '/v1/jobs', {
        cookie: cara.cookie,
        headers: { ...from(address), 'idempotency-key': key },
        body: { request: IMAGE },
      });
    const firstKey = randomUUID();
    const first = await requestJob(firstKey);
    expectStatus(first, 202);
    // Retries of the first job before the second: they are the same request, so no point goes.
    for (let retry = 0; retry < 3; retry += 1) {
      const again = await requestJob(firstKey);
      expectStatus(again, 202);
      expect(again.body).toEqual(first.body);
    }
    expectStatus(await requestJob(randomUUID()), 202);
    expectRateLimited(await requestJob(randomUUID()), 2);
    // Past the limit, the client that lost its first answer still gets it back, replayed.
    const lost = await requestJob(firstKey);
    expectStatus(lost, 202);
    expect(lost.headers.get('idempotent-replayed')).toBe('true');
    expect(lost.body).toEqual(first.body);
  });

  it('refuses the 31st request of a user in a minute, from whatever address; another user gets through', async () => {
    const carla = await signUpOn(limited);
    // 15 requests from each of two addresses: 30 for the user, 15 for each address.
    for (const address of [newAddress(), newAddress()]) {
      for (let request = 0; request < 15; request += 1) {
        const answer = await limited.call('GET', '/v1/accounts/me', {
          cookie: carla.cookie,
          headers: from(address),
        });
        expectStatus(answer, 200);
      }
    }
    const fresh = newAddress();
    expectRateLimited(
      await limited.call('GET', '/v1/accounts/me', { cookie: carla.cookie, headers: from(fresh) }),
      30,
    );
    const dan = await signUpOn(limited);
    expectStatus(
      await limited.call('GET', '/v1/accounts/me', { cookie: dan.cookie, headers: from(fresh) }),
      200,
    );
  });

  it('refuses the 31st request from one address, across both instances; another address gets through', async () => {
    const address = newAddress();
    for (const kiln of [limited, replica]) {
      for (let request = 0; request < 15; request += 1)
        expectStatus(await kiln.call('GET', '/v1/models', { headers: from(address) }), 200);
    }
    expectRateLimited(await limited.call('GET', '/v1/models', { headers: from(address) }), 30);
    expectRateLimited(await replica.call('GET', '/v1/models', { headers: from(address) }), 30);
    expectStatus(await replica.call('GET', '/v1/models', { headers: from(newAddress()) }), 200);
  });

  it("shares one user's budget between two instances: 15 on each, and the 31st is refused", async () => {
    expect(replica.rateLimitPrefix).toBe(limited.rateLimitPrefix);
    const eve = await signUpOn(limited);
    for (const kiln of [limited, replica]) {
      const address = newAddress();
      for (let request = 0; request < 15; request += 1) {
        const answer = await kiln.call('GET', '/v1/accounts/me', {
          cookie: eve.cookie,
          headers: from(address),
        });
        expectStatus(answer, 200);
        expect(answer.body.data.id).toBe(eve.user.id);
      }
    }
    expectRateLimited(
      await replica.call('GET', '/v1/accounts/me', { cookie: eve.cookie, headers: from(newAddress()) }),
      30,
    );
  });

  it('refuses the second upload of a user in a minute', async () => {
    const fay = await signUpOn(limited);
    const upload = () => {
      const form = new FormData();
      form.append('files', new Blob([new Uint8Array(PNG)], { type: 'image/png' }), 'dot.png');
      return limited.call('POST', '/v1/uploads', {
        cookie: fay.cookie,
        headers: from(newAddress()),
        raw: form,
      });
    };
    expectStatus(await upload(), 201);
    expectRateLimited(await upload(), 1);
  });
});
