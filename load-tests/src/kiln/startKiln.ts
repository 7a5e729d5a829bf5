import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEnv } from '@kiln/stack/testing';
import { dropRunData, type RunPlacement } from '#src/kiln/runData.ts';
import { freePort, startServiceProcess, type ServiceProcess } from '#src/kiln/serviceProcess.ts';

export type KilnTarget = {
  commandUrl: string;
  queryUrl: string;
  hubUrl: string;
  adminToken: string;
  /** The services' processes (pids and URLs), for the report. */
  services: Array<{ name: string; url: string; pid: number | undefined }>;
  /** Where this Kiln keeps its data on the stack (its read models' database, say). */
  placement: RunPlacement;
  stop: () => Promise<void>;
};

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;

/** The seeded admin's API token: sign in, then ask for a token as any program would. */
const adminTokenOf = async (commandUrl: string, admin: { email: string; password: string }) => {
  const signIn = await fetch(`${commandUrl}/v1/accounts/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(admin),
  });
  const cookie = signIn.headers.get('set-cookie')?.split(';')[0];
  if (!signIn.ok || !cookie) throw new Error(`the admin could not sign in: ${signIn.status}`);
  const created = await fetch(`${commandUrl}/v1/accounts/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ name: 'k6 admin' }),
  });
  const body = (await created.json()) as { data?: { token?: string } };
  if (!created.ok || !body.data?.token) throw new Error(`no admin token: ${created.status}`);
  return body.data.token;
};

/**
 * Every Kiln service in its own process, against the local stack's `test` profile, in schemas, a read
 * model database and a Redis prefix of this run's own (so it never meets `npm start` or a test), with the
 * process managers on: jobs really run through the local provider (its own process, 16 at once, 1 s a
 * job) and the media processor, as in production. `stop` stops them and drops everything the run made.
 */
export const startKiln = async (logDir: string): Promise<KilnTarget> => {
  const urls = testEnv();
  const run = randomBytes(5).toString('hex');
  const placement: RunPlacement = {
    schemas: [`load_es_${run}`, `load_id_${run}`, `load_cmd_${run}`, `load_media_${run}`],
    mongoDatabase: `kiln_load_${run}`,
    redisPrefix: `load-${run}`,
  };
  const [eventStoreSchema, identitySchema, commandSchema, mediaSchema] = placement.schemas as [
    string,
    string,
    string,
    string,
  ];
  const folder = await mkdtemp(join(tmpdir(), 'kiln-load-'));
  const mongoUrl = new URL(urls.mongoUrl);
  mongoUrl.pathname = `/${placement.mongoDatabase}`;
  const admin = {
    email: `load-admin-${run}@kiln.test`,
    password: `admin-${randomBytes(12).toString('hex')}`,
  };
  const started: ServiceProcess[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const service of [...started].reverse()) await service.stop();
    await dropRunData(urls, placement);
    await rm(folder, { recursive: true, force: true });
  };
  const start = async (options: Omit<Parameters<typeof startServiceProcess>[0], 'logFile'>) => {
    const service = await startServiceProcess({ ...options, logFile: join(logDir, `${options.name}.log`) });
    started.push(service);
    return service;
  };
  const shared = {
    EVENTSTORE_URL: urls.eventStoreUrl,
    EVENTSTORE_SCHEMA: eventStoreSchema,
    LOG_LEVEL: 'warn',
  };
  try {
    const webhookSecret = secret();
    const providerPort = await freePort();
    const provider = await start({
      name: 'local-provider',
      workspace: 'command-service',
      script: 'src/providers/local/main.ts',
      port: providerPort,
      readyPath: '/health',
      env: {
        LOCAL_PROVIDER_PORT: String(providerPort),
        LOCAL_PROVIDER_OUTPUT_DIR: join(folder, 'provider'),
        LOCAL_PROVIDER_DELAY_MS: '1000',
        LOCAL_PROVIDER_CONCURRENCY: '16',
        LOCAL_PROVIDER_FAILURE_RATE: '0.05',
        LOCAL_PROVIDER_WEBHOOK_SECRET: webhookSecret,
      },
    });
    const commandPort = await freePort();
    const command = await start({
      name: 'command-service',
      workspace: 'command-service',
      script: 'src/main.ts',
      port: commandPort,
      readyPath: '/readyz',
      env: {
        ...shared,
        PORT: String(commandPort),
        PUBLIC_URL: `http://127.0.0.1:${commandPort}`,
        REDIS_URL: urls.redisUrl,
        IDENTITY_SCHEMA: identitySchema,
        COMMAND_SCHEMA: commandSchema,
        REDIS_PREFIX: placement.redisPrefix,
        MEDIA_DIR: join(folder, 'command'),
        PAYMENT_WEBHOOK_SECRET: secret(),
        SEED_ADMIN_EMAIL: admin.email,
        SEED_ADMIN_PASSWORD: admin.password,
        // Every request of the load comes from 127.0.0.1: a per-IP budget of 100 a minute would be the
        // whole load's. The per-user job limits stay the design's (5 creations a minute, 5 at once).
        API_REQUESTS_PER_MINUTE: '100000',
        PROCESS_MANAGERS: 'true',
        POLL_EVERY_MS: '500',
        LOCAL_PROVIDER_URL: provider.url,
        LOCAL_PROVIDER_WEBHOOK_SECRET: webhookSecret,
      },
    });
    const readers = { ...shared, IDENTITY_SCHEMA: identitySchema, MONGO_URL: mongoUrl.toString() };
    const [queryPort, hubPort, mediaPort] = [await freePort(), await freePort(), await freePort()];
    const [query, hub] = await Promise.all([
      start({
        name: 'query-service',
        workspace: 'query-service',
        script: 'src/main.ts',
        port: queryPort,
        readyPath: '/readyz',
        env: { ...readers, PORT: String(queryPort) },
      }),
      start({
        name: 'realtime-hub',
        workspace: 'realtime-hub',
        script: 'src/main.ts',
        port: hubPort,
        readyPath: '/readyz',
        env: {
          ...readers,
          PORT: String(hubPort),
          REDIS_URL: urls.redisUrl,
          REDIS_PREFIX: placement.redisPrefix,
        },
      }),
      start({
        name: 'media-processor',
        workspace: 'media-processor',
        script: 'src/main.ts',
        port: mediaPort,
        readyPath: '/readyz',
        env: {
          ...shared,
          PORT: String(mediaPort),
          IDENTITY_SCHEMA: identitySchema,
          MEDIA_SCHEMA: mediaSchema,
          MEDIA_STORE: join(folder, 'media'),
          MALLOC_ARENA_MAX: '2',
        },
      }),
    ]);
    return {
      commandUrl: command.url,
      queryUrl: query.url,
      hubUrl: hub.url,
      adminToken: await adminTokenOf(command.url, admin),
      services: started.map(({ name, url, pid }) => ({ name, url, pid })),
      placement,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
};
