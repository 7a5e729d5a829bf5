import { randomUUID } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import express, { type Response } from 'express';
import { MongoClient } from 'mongodb';
import type { KilnEvent } from '@kiln/contracts/events';
import { openEventStore } from '@kiln/event-store/open';
import type { EventStore } from '@kiln/event-store/port';
import { authenticate } from '@kiln/identity/http';
import { createIdentityStore } from '@kiln/identity/store';
import { createReadModels } from '@kiln/query-service/read-models';
import { createMetrics, healthRoutes } from '@kiln/service-kit/health';
import { correlation, errorMiddleware, notFound, requestLog } from '@kiln/service-kit/http';
import type { Logger } from '@kiln/service-kit/logger';
import { createRedis, redisReadiness } from '@kiln/service-kit/redis';
import type { RealtimeHubConfig } from '#src/config.ts';
import { startLiveFeed } from '#src/feed/liveFeed.ts';
import { createHubMetrics } from '#src/metrics.ts';
import { createPresence } from '#src/presence/presence.ts';
import { attachSocketServer } from '#src/socket/socketServer.ts';
import { sseRoutes } from '#src/sse/sseRoute.ts';

/** The read models' database: the path of MONGO_URL, `kiln` when it names none (as the query service). */
const readModelDatabaseOf = (mongoUrl: string): string =>
  /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(mongoUrl)?.[1] ?? 'kiln';

export type RealtimeHub = {
  app: express.Express;
  store: EventStore<KilnEvent>;
  /** Attaches Socket.IO to the HTTP server that serves `app`. */
  attach: (httpServer: HttpServer) => void;
  /** Tells every client to resync and closes its connection or stream (before a restart). */
  drain: () => void;
  close: () => Promise<void>;
};

/** Opens the event store, the read models, the users and Redis; the live feed; the SSE routes. */
export const createRealtimeHub = async (config: RealtimeHubConfig, logger: Logger): Promise<RealtimeHub> => {
  const store = await openEventStore(config.EVENTSTORE_URL, { schema: config.EVENTSTORE_SCHEMA });
  const mongo = await new MongoClient(config.MONGO_URL).connect();
  const readModels = createReadModels(mongo.db(readModelDatabaseOf(config.MONGO_URL)));
  const identity = await createIdentityStore({
    connectionString: config.DATABASE_URL ?? config.EVENTSTORE_URL,
    schema: config.IDENTITY_SCHEMA,
  });
  const redis = createRedis(config.REDIS_URL, { name: 'realtime-hub', logger });
  const { registry, middleware } = createMetrics('realtime-hub');
  const metrics = createHubMetrics(registry);
  const feed = await startLiveFeed(store, {
    onRestart: (reason, error) => {
      metrics.feedRestarts.inc({ reason });
      logger.warn({ err: error, reason }, 'the live feed subscribes again from its position');
    },
  });
  const presence = createPresence({
    redis,
    prefix: config.REDIS_PREFIX,
    ttlSeconds: config.PRESENCE_TTL_SECONDS,
  });
  const subscriptions = { store, readModels, feed };
  const streams = new Set<Response>();
  let sockets: ReturnType<typeof attachSocketServer> | undefined;

  const app = express();
  app.disable('x-powered-by');
  app.use(correlation({ logger }), requestLog(), middleware);
  app.use(
    healthRoutes({
      registry,
      readiness: {
        eventStore: async () => void (await store.headPosition()),
        redis: redisReadiness(redis),
      },
    }),
  );
  app.use(authenticate(identity));
  app.use(
    sseRoutes({
      subscriptions,
      heartbeatSeconds: config.HEARTBEAT_SECONDS,
      maxPendingBytes: config.MAX_PENDING_BYTES,
      metrics,
      streams,
    }),
  );
  app.use(notFound());
  app.use(errorMiddleware());

  return {
    app,
    store,
    attach: (httpServer) => {
      sockets = attachSocketServer({
        httpServer,
        identity,
        subscriptions,
        redis,
        redisPrefix: config.REDIS_PREFIX,
        presence,
        presenceTtlSeconds: config.PRESENCE_TTL_SECONDS,
        maxPendingBytes: config.MAX_PENDING_BYTES,
        stallMs: config.HEARTBEAT_SECONDS * 2000,
        corsOrigins: config.CORS_ORIGINS,
        instanceId: randomUUID(),
        logger,
        metrics,
      });
    },
    drain: () => {
      sockets?.drain();
      for (const stream of streams) {
        stream.write(
          `event: resync\ndata: ${JSON.stringify({ position: null, reason: 'the hub is restarting' })}\n\n`,
        );
        stream.end();
      }
    },
    close: async () => {
      sockets?.close();
      await feed.close();
      redis.disconnect();
      await Promise.allSettled([store.close(), identity.close()]);
      await mongo.close();
    },
  };
};
