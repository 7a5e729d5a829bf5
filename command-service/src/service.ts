import express from 'express';
import type { KilnEvent } from '@kiln/contracts/events';
import { openEventStore } from '@kiln/event-store/open';
import type { EventStore } from '@kiln/event-store/port';
import { authenticate } from '@kiln/identity/http';
import { createIdentityStore, type IdentityStore } from '@kiln/identity/store';
import { createMetrics, healthRoutes } from '@kiln/service-kit/health';
import { correlation, errorMiddleware, jsonBody, notFound, requestLog } from '@kiln/service-kit/http';
import type { Logger } from '@kiln/service-kit/logger';
import { createRateLimiter, rateLimits } from '@kiln/service-kit/rate-limit';
import { createRedis, redisReadiness, type Redis } from '@kiln/service-kit/redis';
import { openCommandDatabase } from '#src/adapters/commandDatabase.ts';
import { createIdempotencyStore, type IdempotencyStore } from '#src/adapters/idempotencyStore.ts';
import { createInviteStore } from '#src/adapters/inviteStore.ts';
import { createUploadStore } from '#src/adapters/uploadStore.ts';
import { createCancelJob } from '#src/app/cancelJob.ts';
import { createCommandHandler } from '#src/app/commandHandler.ts';
import { createCredits } from '#src/app/credits.ts';
import { createRequestJob } from '#src/app/requestJob.ts';
import { createSessions } from '#src/app/sessions.ts';
import { databaseUrlOf, type CommandServiceConfig } from '#src/config.ts';
import { mapCommandError } from '#src/http/errors.ts';
import { createMount } from '#src/http/mount.ts';
import { openApiDocument } from '#src/http/openapi.ts';
import { ipKey, userKey } from '#src/http/rateKeys.ts';
import { accountRoutes } from '#src/http/routes/accounts.ts';
import { adminCreditRoutes, paymentWebhookRoutes } from '#src/http/routes/credits.ts';
import { jobRoutes } from '#src/http/routes/jobs.ts';
import { sessionRoutes } from '#src/http/routes/sessions.ts';
import { uploadRoutes } from '#src/http/routes/uploads.ts';
import { providerWebhookRoutes } from '#src/http/routes/providerWebhooks.ts';
import { createJobWork } from '#src/processes/jobWork.ts';
import { startProcesses, type Processes } from '#src/processes/startProcesses.ts';

/** Where each part keeps its data; tests give every run its own. */
export type Placement = {
  eventStoreSchema?: string;
  identitySchema?: string;
  commandSchema?: string;
  rateLimitPrefix?: string;
};

export type CommandService = {
  app: express.Express;
  store: EventStore<KilnEvent>;
  identity: IdentityStore;
  redis: Redis;
  idempotency: IdempotencyStore;
  processes: Processes;
  close: () => Promise<void>;
};

/** Opens every resource the command service needs and assembles its HTTP app. `main.ts` serves it. */
export const createCommandService = async (
  config: CommandServiceConfig,
  logger: Logger,
  placement: Placement = {},
): Promise<CommandService> => {
  const store = await openEventStore(
    config.EVENTSTORE_URL,
    placement.eventStoreSchema ? { schema: placement.eventStoreSchema } : {},
  );
  const identity = await createIdentityStore({
    connectionString: databaseUrlOf(config),
    ...(placement.identitySchema ? { schema: placement.identitySchema } : {}),
  });
  const database = await openCommandDatabase(databaseUrlOf(config), placement.commandSchema);
  const redis = createRedis(config.REDIS_URL, { name: 'command-service', logger });
  const uploads = createUploadStore(config.MEDIA_DIR);
  await uploads.ensureFolders();

  const handle = createCommandHandler(store);
  const credits = createCredits({ handle });
  const idempotency = createIdempotencyStore(redis, {
    prefix: `kiln:idempotency:${placement.rateLimitPrefix ?? 'command'}`,
  });
  const mount = createMount(idempotency);
  const limiter = (name: string, points: number) =>
    createRateLimiter(redis, {
      name: `${placement.rateLimitPrefix ?? 'command'}:${name}`,
      points,
      durationSeconds: 60,
    });
  const metrics = createMetrics('command-service');

  if (config.SEED_ADMIN_EMAIL && config.SEED_ADMIN_PASSWORD) {
    const admin = await identity.ensureAdmin({
      email: config.SEED_ADMIN_EMAIL,
      password: config.SEED_ADMIN_PASSWORD,
      displayName: 'Admin',
    });
    await credits.openAccount(admin.accountId, admin.id, {
      correlationId: 'seed-admin',
      causationId: null,
      actor: { kind: 'system', id: 'config' },
      now: new Date(),
    });
  }

  const processes = await startProcesses({ config, store, handle, database, uploads, logger });

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.use(correlation({ logger }), requestLog(), metrics.middleware);
  app.use(
    healthRoutes({
      registry: metrics.registry,
      readiness: {
        eventStore: async () => void (await store.headPosition()),
        database: async () => void (await database.pool.query('select 1')),
        redis: redisReadiness(redis),
      },
    }),
  );
  const document = openApiDocument();
  app.get('/v1/openapi.json', (_req, res) => void res.json(document));
  app.use(paymentWebhookRoutes({ mount, credits, secret: config.PAYMENT_WEBHOOK_SECRET }));
  app.use(
    providerWebhookRoutes({
      mount,
      adapters: new Map(
        processes.providers.names.flatMap((name) => {
          const adapter = processes.providers.byName(name);
          return adapter ? [[name, adapter] as const] : [];
        }),
      ),
      handle,
      work: createJobWork(database),
    }),
  );
  app.use(authenticate(identity));
  app.use(
    rateLimits(
      [limiter('api-ip', config.API_REQUESTS_PER_MINUTE), ipKey],
      [limiter('api-user', config.API_REQUESTS_PER_MINUTE), userKey],
    ),
  );
  app.use(uploadRoutes({ mount, uploads, uploadLimiter: limiter('uploads', config.UPLOADS_PER_MINUTE) }));
  app.use(jsonBody());
  app.use(
    jobRoutes({
      mount,
      requestJob: createRequestJob({ handle, store, uploads, maxActiveJobs: config.MAX_ACTIVE_JOBS }),
      cancelJob: createCancelJob({ handle, store }),
      jobCreationLimiter: limiter('job-creations', config.JOB_CREATIONS_PER_MINUTE),
    }),
  );
  app.use(accountRoutes({ mount, identity, credits, secureCookies: config.COOKIE_SECURE }));
  app.use(
    sessionRoutes({
      mount,
      sessions: createSessions({ handle, store, invites: createInviteStore(database) }),
    }),
  );
  app.use(adminCreditRoutes({ mount, credits }));
  app.use(notFound());
  app.use(errorMiddleware({ mapError: mapCommandError }));

  return {
    app,
    store,
    identity,
    redis,
    idempotency,
    processes,
    close: async () => {
      await processes.stop();
      redis.disconnect();
      await Promise.allSettled([store.close(), identity.close(), database.close()]);
    },
  };
};
