import express from 'express';
import type { KilnEvent } from '@kiln/contracts/events';
import { openEventStore } from '@kiln/event-store/open';
import type { EventStore } from '@kiln/event-store/port';
import { startSubscriber, type Subscriber } from '@kiln/event-store/subscriber';
import { authenticate } from '@kiln/identity/http';
import { createIdentityStore } from '@kiln/identity/store';
import { createMetrics, healthRoutes } from '@kiln/service-kit/health';
import { correlation, errorMiddleware, notFound, requestLog } from '@kiln/service-kit/http';
import type { Logger } from '@kiln/service-kit/logger';
import { createAccessView } from '#src/access/accessView.ts';
import { databaseUrlOf, type MediaProcessorConfig } from '#src/config.ts';
import { mediaCheckpoints, openMediaDatabase } from '#src/database.ts';
import { mediaRoutes } from '#src/http/mediaRoutes.ts';
import { createMediaMetrics } from '#src/metrics.ts';
import { configureSharp } from '#src/pipeline/variants.ts';
import { startMediaWorker } from '#src/processing/mediaWorker.ts';
import { createPendingCompletions, type PendingCompletions } from '#src/processing/pending.ts';
import { openMediaStore } from '#src/storage/open.ts';

export type MediaProcessor = {
  app: express.Express;
  store: EventStore<KilnEvent>;
  subscriber: Subscriber;
  pending: PendingCompletions;
  close: () => Promise<void>;
};

/**
 * Opens everything the media processor needs and starts its two loops: the subscriber that puts every
 * succeeded job on the work list (and keeps the access view), and the worker that processes the list.
 */
export const createMediaProcessor = async (
  config: MediaProcessorConfig,
  logger: Logger,
): Promise<MediaProcessor> => {
  configureSharp({ concurrency: config.SHARP_CONCURRENCY });
  const store = await openEventStore(config.EVENTSTORE_URL, { schema: config.EVENTSTORE_SCHEMA });
  const identity = await createIdentityStore({
    connectionString: databaseUrlOf(config),
    schema: config.IDENTITY_SCHEMA,
  });
  const database = await openMediaDatabase(databaseUrlOf(config), config.MEDIA_SCHEMA);
  const media = await openMediaStore(config.MEDIA_STORE);
  const pending = createPendingCompletions(database);
  const access = createAccessView(database);
  const { registry, middleware } = createMetrics('media-processor');
  const metrics = createMediaMetrics(registry);

  const subscriber = startSubscriber({
    name: 'media-processor',
    store,
    // Its handlers only add to the work list and the access view, both idempotent.
    saveEveryHandled: 50,
    checkpoints: mediaCheckpoints(database),
    logger,
    interestedIn: (event) => event.type === 'JobSucceeded' || access.interestedIn(event),
    handle: async (event) => {
      if (event.type === 'JobSucceeded') {
        await pending.add({
          jobId: event.data.jobId,
          outputs: event.data.outputs,
          correlationId: event.metadata.correlationId,
          causeId: event.id,
        });
      } else {
        await access.apply(event);
      }
    },
  });
  const worker = startMediaWorker({
    store,
    media,
    pending,
    metrics,
    logger,
    concurrency: config.MEDIA_CONCURRENCY,
    download: { timeoutMs: config.DOWNLOAD_TIMEOUT_MS, maxBytes: config.DOWNLOAD_MAX_BYTES },
    leaseMs: config.WORK_LEASE_MS,
    maxAttempts: config.DOWNLOAD_ATTEMPTS,
  });

  const app = express();
  app.disable('x-powered-by');
  app.use(correlation({ logger }), requestLog(), middleware);
  app.use(
    healthRoutes({
      registry,
      readiness: {
        eventStore: async () => void (await store.headPosition()),
        database: async () => void (await database.pool.query('select 1')),
      },
    }),
  );
  app.use(authenticate(identity));
  app.use(mediaRoutes({ store, media, access }));
  app.use(notFound());
  app.use(errorMiddleware());

  return {
    app,
    store,
    subscriber,
    pending,
    close: async () => {
      await worker.stop();
      await subscriber.stop();
      await Promise.allSettled([store.close(), identity.close(), database.close()]);
    },
  };
};
