import express from 'express';
import { MongoClient } from 'mongodb';
import type { KilnEvent } from '@kiln/contracts/events';
import { openEventStore } from '@kiln/event-store/open';
import type { EventStore } from '@kiln/event-store/port';
import { authenticate, requireAdmin } from '@kiln/identity/http';
import { createIdentityStore } from '@kiln/identity/store';
import { createMetrics, healthRoutes } from '@kiln/service-kit/health';
import { correlation, errorMiddleware, notFound, requestLog, sendOk } from '@kiln/service-kit/http';
import type { Logger } from '@kiln/service-kit/logger';
import { databaseUrlOf, readModelDatabaseOf, type QueryServiceConfig } from '#src/config.ts';
import { accountRoutes } from '#src/http/accountRoutes.ts';
import { afterWait } from '#src/http/afterWait.ts';
import { jobRoutes } from '#src/http/jobRoutes.ts';
import { sessionRoutes } from '#src/http/sessionRoutes.ts';
import { timelineRoutes } from '#src/http/timelineRoutes.ts';
import { createProjectorMetrics } from '#src/metrics.ts';
import {
  projectionLag,
  startProjectors,
  waitForProjections,
  type Projectors,
} from '#src/projector/projectors.ts';
import { createReadModels, type ReadModels } from '#src/readModels/collections.ts';

export type QueryService = {
  app: express.Express;
  store: EventStore<KilnEvent>;
  readModels: ReadModels;
  projectors: Projectors | undefined;
  close: () => Promise<void>;
};

/** Opens the event store, the read models and the users; starts the projectors; assembles the query API. */
export const createQueryService = async (
  config: QueryServiceConfig,
  logger: Logger,
): Promise<QueryService> => {
  const store = await openEventStore(config.EVENTSTORE_URL, { schema: config.EVENTSTORE_SCHEMA });
  const mongo = await new MongoClient(config.MONGO_URL).connect();
  const db = mongo.db(readModelDatabaseOf(config.MONGO_URL));
  const readModels = createReadModels(db);
  await readModels.ensureIndexes();
  const identity = await createIdentityStore({
    connectionString: databaseUrlOf(config),
    schema: config.IDENTITY_SCHEMA,
  });
  const { registry, middleware } = createMetrics('query-service');
  const metrics = createProjectorMetrics(registry, store, db);
  const projectors = config.PROJECTORS
    ? await startProjectors({
        store,
        db,
        logger,
        batchSize: config.PROJECTOR_BATCH_SIZE,
        onBatch: ({ projector, events, seconds }) => {
          metrics.events.inc({ projector }, events);
          metrics.batchSeconds.observe({ projector }, seconds);
        },
      })
    : undefined;

  const app = express();
  app.disable('x-powered-by');
  app.use(correlation({ logger }), requestLog(), middleware);
  app.use(
    healthRoutes({
      registry,
      readiness: {
        eventStore: async () => void (await store.headPosition()),
        readModels: async () => void (await db.command({ ping: 1 })),
      },
    }),
  );
  app.use(authenticate(identity));
  app.use(
    afterWait((position, timeoutMs) => waitForProjections(db, position, timeoutMs), config.AFTER_WAIT_MS),
  );
  app.use(jobRoutes(readModels));
  app.use(sessionRoutes(readModels));
  app.use(timelineRoutes(store, readModels));
  app.use(accountRoutes(store, readModels));
  app.get('/v1/projections', requireAdmin, async (_req, res) => sendOk(res, await projectionLag(store, db)));
  app.use(notFound());
  app.use(errorMiddleware());

  return {
    app,
    store,
    readModels,
    projectors,
    close: async () => {
      await projectors?.stop();
      await Promise.allSettled([store.close(), identity.close()]);
      await mongo.close();
    },
  };
};
