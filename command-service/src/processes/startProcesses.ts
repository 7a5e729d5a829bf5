import { join } from 'node:path';
import type { KilnEvent } from '@kiln/contracts/events';
import type { EventStore } from '@kiln/event-store/port';
import type { Logger } from '@kiln/service-kit/logger';
import type { CommandDatabase } from '#src/adapters/commandDatabase.ts';
import type { UploadStore } from '#src/adapters/uploadStore.ts';
import type { CommandHandler } from '#src/app/commandHandler.ts';
import type { CommandServiceConfig } from '#src/config.ts';
import { createCheckpoints } from '#src/processes/checkpoints.ts';
import { createJobTracker } from '#src/processes/jobTracker.ts';
import { startJobWorker } from '#src/processes/jobWorker.ts';
import { createJobWork } from '#src/processes/jobWork.ts';
import { createProviderHealth } from '#src/processes/providerHealth.ts';
import { startSubscriber, type Subscriber } from '@kiln/event-store/subscriber';
import { startLocalProvider } from '#src/providers/local/server.ts';
import { buildProviderRegistry, type ProviderRegistry } from '#src/providers/registry.ts';

export type Processes = {
  providers: ProviderRegistry;
  tracker: Subscriber | undefined;
  localProviderUrl: string;
  stop(): Promise<void>;
};

/**
 * The providers this instance can call, and, unless turned off, the process managers: the job tracker
 * (a checkpointed subscriber to `$all`) and the job worker (submits, polls, cancels, times out).
 */
export const startProcesses = async (deps: {
  config: CommandServiceConfig;
  store: EventStore<KilnEvent>;
  handle: CommandHandler;
  database: CommandDatabase;
  uploads: UploadStore;
  logger: Logger;
}): Promise<Processes> => {
  const { config, store, handle, database, uploads, logger } = deps;
  const embedded = config.LOCAL_PROVIDER_URL
    ? undefined
    : await startLocalProvider({
        outputDir: join(config.MEDIA_DIR, 'local-provider'),
        delayMs: config.LOCAL_PROVIDER_DELAY_MS,
        failureRate: config.LOCAL_PROVIDER_FAILURE_RATE,
        ...(config.LOCAL_PROVIDER_WEBHOOK_SECRET
          ? { webhookSecret: config.LOCAL_PROVIDER_WEBHOOK_SECRET }
          : {}),
      });
  const localProviderUrl = config.LOCAL_PROVIDER_URL ?? embedded?.url ?? '';
  const localWebhookSecret = config.LOCAL_PROVIDER_WEBHOOK_SECRET ?? embedded?.webhookSecret;
  const health = createProviderHealth(store, logger);
  const retries = logger.child({ processManager: 'provider-runner' });
  const providers = buildProviderRegistry({
    local: {
      baseUrl: localProviderUrl,
      ...(localWebhookSecret ? { webhookSecret: localWebhookSecret } : {}),
    },
    ...(config.REPLICATE_API_TOKEN
      ? {
          replicate: {
            token: config.REPLICATE_API_TOKEN,
            ...(config.REPLICATE_BASE_URL ? { baseUrl: config.REPLICATE_BASE_URL } : {}),
            ...(config.REPLICATE_WEBHOOK_SECRET ? { webhookSecret: config.REPLICATE_WEBHOOK_SECRET } : {}),
          },
        }
      : {}),
    ...(config.FAL_KEY
      ? {
          fal: {
            key: config.FAL_KEY,
            ...(config.FAL_QUEUE_URL ? { baseUrl: config.FAL_QUEUE_URL } : {}),
            ...(config.FAL_JWKS_URL ? { webhooks: { jwksUrl: config.FAL_JWKS_URL } } : {}),
          },
        }
      : {}),
    resilience: {
      timeoutMs: config.PROVIDER_TIMEOUT_MS,
      maxAttempts: config.PROVIDER_MAX_ATTEMPTS,
      breaker: {
        consecutiveFailures: config.PROVIDER_BREAKER_FAILURES,
        halfOpenAfterMs: config.PROVIDER_BREAKER_HALF_OPEN_MS,
      },
    },
    onBreakerChange: health.breakerChanged,
    onLimitHit: health.limitHit,
    onRetry: ({ provider, attempt, delayMs }) =>
      retries.debug({ provider, attempt, delayMs }, 'retrying a provider call'),
  });

  if (!config.PROCESS_MANAGERS) {
    return {
      providers,
      tracker: undefined,
      localProviderUrl,
      stop: async () => void (await embedded?.close()),
    };
  }
  const work = createJobWork(database);
  const jobTracker = createJobTracker({
    store,
    handle,
    work,
    orphanReservationMs: config.ORPHAN_RESERVATION_SECONDS * 1000,
    pollEveryMs: config.POLL_EVERY_MS,
  });
  const tracker = startSubscriber({
    name: 'job-tracker',
    store,
    checkpoints: createCheckpoints(database),
    logger,
    interestedIn: jobTracker.interestedIn,
    handle: jobTracker.handle,
  });
  const worker = startJobWorker({
    store,
    handle,
    work,
    providers,
    uploads,
    logger,
    pollEveryMs: config.POLL_EVERY_MS,
    leaseMs: config.WORK_LEASE_MS,
    ...(config.PUBLIC_URL
      ? { webhookBaseUrl: `${config.PUBLIC_URL.replace(/\/$/, '')}/v1/webhooks/providers` }
      : {}),
  });
  return {
    providers,
    tracker,
    localProviderUrl,
    stop: async () => {
      await worker.stop();
      await tracker.stop();
      await embedded?.close();
    },
  };
};
