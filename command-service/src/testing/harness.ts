import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pg from 'pg';
import { testEnv } from '@kiln/stack/testing';
import { createLogger } from '@kiln/service-kit/logger';
import { serve } from '@kiln/service-kit/server';
import { CommandServiceConfig } from '#src/config.ts';
import { createCommandService, type CommandService } from '#src/service.ts';

export const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
export const ADMIN = { email: 'admin@kiln.test', password: 'admin-password-1' };

export type Answer = { status: number; body: any; headers: Headers };

export type StartOptions = {
  /**
   * Start another instance of the same deployment, as a second replica behind a load balancer: it uses the
   * schemas (users, events, idempotency keys...) and the rate-limit prefix of the instance it names, so both
   * share users and limits. That instance owns them: only its `stop` drops the schemas.
   */
  replicaOf?: {
    schemas: Record<'eventStoreSchema' | 'identitySchema' | 'commandSchema', string>;
    rateLimitPrefix: string;
  };
};

/**
 * A real command service on a free port, against the test stack's PostgreSQL and Redis, in schemas and a
 * media folder of its own, with every log line kept for inspection.
 */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
  });

export const startCommandService = async (
  overrides: Record<string, string> = {},
  options: StartOptions = {},
) => {
  const urls = testEnv();
  const run = randomUUID().replaceAll('-', '').slice(0, 12);
  const mediaDir = await mkdtemp(join(tmpdir(), 'kiln-command-'));
  // Known before start, so providers can be given this service's webhook address.
  const port = await freePort();
  const config = CommandServiceConfig.parse({
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    EVENTSTORE_URL: urls.eventStoreUrl,
    REDIS_URL: urls.redisUrl,
    MEDIA_DIR: mediaDir,
    PAYMENT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SEED_ADMIN_EMAIL: ADMIN.email,
    SEED_ADMIN_PASSWORD: ADMIN.password,
    API_REQUESTS_PER_MINUTE: '100000',
    JOB_CREATIONS_PER_MINUTE: '100000',
    UPLOADS_PER_MINUTE: '100000',
    PROCESS_MANAGERS: 'false',
    LOG_LEVEL: 'info',
    ...overrides,
  });
  const logLines: string[] = [];
  const logger = createLogger({
    service: 'command-service',
    level: config.LOG_LEVEL,
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  });
  const schemas = options.replicaOf?.schemas ?? {
    eventStoreSchema: `es_${run}`,
    identitySchema: `id_${run}`,
    commandSchema: `cmd_${run}`,
  };
  const rateLimitPrefix = options.replicaOf?.rateLimitPrefix ?? `test-${run}`;
  const service: CommandService = await createCommandService(config, logger, { ...schemas, rateLimitPrefix });
  const serving = await serve(service.app, { port, logger });

  const call = async (
    method: string,
    path: string,
    options: {
      body?: unknown;
      cookie?: string;
      headers?: Record<string, string>;
      raw?: RequestInit['body'];
    } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.cookie) headers['cookie'] = options.cookie;
    let body: RequestInit['body'] = options.raw;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${serving.url}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: kept as text so a test can say what it got
    }
    return { status: response.status, body: parsed, headers: response.headers };
  };

  const cookieOf = (answer: Answer) => answer.headers.get('set-cookie')?.split(';')[0] ?? '';

  const signUp = async (name = `user-${randomUUID().slice(0, 8)}`) => {
    const password = `pw-${randomUUID()}`;
    const answer = await call('POST', '/v1/accounts/sign-up', {
      body: { email: `${name}@kiln.test`, password, displayName: name },
    });
    if (answer.status !== 201)
      throw new Error(`sign-up failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    return {
      user: answer.body.data.user as { id: string; accountId: string; email: string },
      cookie: cookieOf(answer),
      password,
    };
  };

  const admin = async () => {
    const answer = await call('POST', '/v1/accounts/sign-in', { body: ADMIN });
    return { cookie: cookieOf(answer), user: answer.body.data.user as { id: string } };
  };

  const grant = async (accountId: string, amount: number) => {
    const { cookie } = await admin();
    const answer = await call('POST', `/v1/admin/accounts/${accountId}/grants`, {
      cookie,
      headers: { 'idempotency-key': `grant-${randomUUID()}` },
      body: { amount, reason: 'credits for a test' },
    });
    if (answer.status !== 200)
      throw new Error(`grant failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  };

  return {
    url: serving.url,
    service,
    store: service.store,
    schemas,
    /** Names this instance's rate-limit budgets in Redis (`replicaOf` shares them). */
    rateLimitPrefix,
    /** The service's MEDIA_DIR: uploads arrive in `incoming/` and are kept in `inputs/<userId>/`. */
    mediaDir,
    logLines,
    call,
    cookieOf,
    signUp,
    admin,
    grant,
    stop: async () => {
      await serving.close();
      await service.close();
      await rm(mediaDir, { recursive: true, force: true });
      if (options.replicaOf) return;
      const admin = new pg.Client({ connectionString: urls.eventStoreUrl });
      await admin.connect();
      for (const schema of Object.values(schemas))
        await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
};

export type CommandServiceUnderTest = Awaited<ReturnType<typeof startCommandService>>;
