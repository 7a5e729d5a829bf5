import { findModel, type CatalogModel } from '@kiln/contracts/catalog';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';
import type { Logger } from '@kiln/service-kit/logger';
import type { UploadStore } from '#src/adapters/uploadStore.ts';
import type { CommandHandler } from '#src/app/commandHandler.ts';
import { jobDecider } from '#src/domain/job/decide.ts';
import { alreadyDoneIsFine, systemContext } from '#src/processes/effects.ts';
import type { JobWork, JobWorkItem } from '#src/processes/jobWork.ts';
import { createDeadlines } from '#src/processes/deadlines.ts';
import { applyProviderStatus } from '#src/processes/providerStatus.ts';
import { createSubmitter, failJob } from '#src/processes/submission.ts';
import { ProviderError, type ProviderAdapter, type ProviderStatus } from '#src/providers/port.ts';

export type Providers = { forModel(model: CatalogModel): ProviderAdapter | undefined };

export type JobWorkerOptions = {
  store: EventStore<KilnEvent>;
  handle: CommandHandler;
  work: JobWork;
  providers: Providers;
  uploads: UploadStore;
  logger: Logger;
  /** Where providers send webhooks, e.g. `https://kiln.example/v1/webhooks/providers`; none means polling only. */
  webhookBaseUrl?: string;
  tickMs?: number;
  pollEveryMs?: number;
  leaseMs?: number;
  concurrency?: number;
};

/**
 * Works the list: submits requested jobs to their provider (submission.ts), polls submitted ones (the
 * fallback when no webhook comes), presses cancels until the provider confirms, and acts on deadlines
 * (deadlines.ts): times out jobs past their model's deadline, fails succeeded jobs whose artifacts are
 * overdue, and releases reservations whose job was never recorded. Items are leased, so instances share
 * the work.
 */
export const startJobWorker = (options: JobWorkerOptions) => {
  const { store, handle, work, providers, logger } = options;
  const tickMs = options.tickMs ?? 250;
  const pollEveryMs = options.pollEveryMs ?? 2_000;
  const leaseMs = options.leaseMs ?? 60_000;
  const log = logger.child({ processManager: 'job-worker' });
  let stopped = false;
  const submit = createSubmitter({
    store,
    handle,
    uploads: options.uploads,
    pollEveryMs,
    ...(options.webhookBaseUrl ? { webhookBaseUrl: options.webhookBaseUrl } : {}),
  });
  const deadlines = createDeadlines(handle);

  const poll = async (item: JobWorkItem, model: CatalogModel, adapter: ProviderAdapter) => {
    if (!item.providerJobId) return;
    let status = await adapter.getStatus(item.providerJobId, model);
    if (status.state === 'succeeded' && status.outputs.length === 0) {
      status = await adapter.getResult(item.providerJobId, model).then(
        (outputs): ProviderStatus => ({ state: 'succeeded', outputs }),
        (error: unknown): ProviderStatus => {
          // A result that will never be readable (an output link Kiln refuses...) is the job's failure.
          if (error instanceof ProviderError && !error.retryable)
            return { state: 'failed', code: error.code, retryable: false };
          throw error;
        },
      );
    }
    await applyProviderStatus(
      handle,
      adapter.name,
      item.jobId,
      status,
      systemContext(`poll/${item.jobId}/${Date.now()}`, item.jobId),
    );
  };

  const pressCancel = async (item: JobWorkItem, model: CatalogModel, adapter: ProviderAdapter) => {
    const confirm = () =>
      alreadyDoneIsFine(() =>
        handle(
          jobDecider,
          jobStreamId(item.jobId),
          { type: 'ConfirmCancel', data: {} },
          systemContext(`work/${item.jobId}/cancel-confirmed`, item.jobId),
        ),
      );
    if (!item.providerJobId) return confirm();
    const outcome = await adapter.cancel(item.providerJobId, model);
    if (outcome === 'canceled') return confirm();
    // Finished before the cancel reached it: what it delivered is kept (and paid for), or it failed.
    if (outcome === 'finished') return poll(item, model, adapter);
  };

  /** Does what the item's stage asks; answers in how many ms it is next due, when not the usual poll. */
  const step = async (
    item: JobWorkItem,
    model: CatalogModel | undefined,
    adapter: ProviderAdapter | undefined,
  ): Promise<number | undefined> => {
    const untilDeadline = item.deadline.getTime() - Date.now();
    if (untilDeadline <= 0) return void (await deadlines.passed(item, model, adapter));
    // Nothing to do but wait: for the job to be recorded, or for its artifacts.
    if (item.stage === 'reserved' || item.stage === 'succeeded') return untilDeadline;
    if (!model || !adapter) {
      const none = new ProviderError('provider_unavailable', 'no provider serves this model here', {
        retryable: false,
      });
      return void (await failJob(handle, item, none, 'no-provider'));
    }
    if (item.stage === 'requested') return submit(item, model, adapter);
    if (item.stage === 'submitted') await poll(item, model, adapter);
    if (item.stage === 'cancel_requested') await pressCancel(item, model, adapter);
    return undefined;
  };

  const process = async (item: JobWorkItem) => {
    const model = item.modelId ? findModel(item.modelId) : undefined;
    const adapter = model ? providers.forModel(model) : undefined;
    try {
      await work.later(item, (await step(item, model, adapter)) ?? pollEveryMs);
    } catch (error) {
      log.warn({ err: error, jobId: item.jobId, stage: item.stage }, 'job work failed; trying again later');
      const retryAfterMs = error instanceof ProviderError ? (error.retryAfterMs ?? pollEveryMs) : pollEveryMs;
      await work.later(item, Math.max(retryAfterMs, pollEveryMs)).catch(() => undefined);
    }
  };

  const loop = async () => {
    while (!stopped) {
      try {
        const items = await work.takeDue(options.concurrency ?? 8, leaseMs);
        await Promise.all(items.map(process));
        if (items.length === 0) await new Promise((resolve) => setTimeout(resolve, tickMs));
      } catch (error) {
        log.error({ err: error }, 'job worker loop failed');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  const running = loop();
  return {
    stop: async () => {
      stopped = true;
      await running;
    },
  };
};
