import type { CatalogModel } from '@kiln/contracts/catalog';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import type { UploadStore } from '#src/adapters/uploadStore.ts';
import type { CommandHandler } from '#src/app/commandHandler.ts';
import { jobDecider } from '#src/domain/job/decide.ts';
import type { JobEventBody } from '#src/domain/job/state.ts';
import { alreadyDoneIsFine, systemContext } from '#src/processes/effects.ts';
import type { JobWorkItem } from '#src/processes/jobWork.ts';
import { failureMessages } from '#src/processes/providerStatus.ts';
import { ProviderError, type ProviderAdapter } from '#src/providers/port.ts';

/** Fails a job with the provider error's code and retryability, in Kiln's words. */
export const failJob = (handle: CommandHandler, item: JobWorkItem, error: ProviderError, step: string) =>
  alreadyDoneIsFine(() =>
    handle(
      jobDecider,
      jobStreamId(item.jobId),
      {
        type: 'FailJob',
        data: { code: error.code, message: failureMessages[error.code], retryable: error.retryable },
      },
      systemContext(`work/${item.jobId}/${step}/fail`, item.jobId),
    ),
  );

/** When the provider said the next attempt may go, if the last thing that happened was that refusal. */
const retryAtOf = (events: readonly RecordedEvent<KilnEvent>[]): number | undefined => {
  const last = events.findLast(
    (event) => event.type === 'JobProviderAttemptFailed' || event.type === 'JobProviderSubmitted',
  );
  return last?.type === 'JobProviderAttemptFailed' && last.data.retryAt
    ? Date.parse(last.data.retryAt)
    : undefined;
};

export type SubmitterOptions = {
  store: EventStore<KilnEvent>;
  handle: CommandHandler;
  uploads: UploadStore;
  /** Where providers send webhooks; none means polling only. */
  webhookBaseUrl?: string;
  pollEveryMs: number;
};

/**
 * Sends a requested job to its provider, once per attempt (idempotency key `<jobId>/attempt-<n>`).
 *
 * A provider limiting the rate (429) for longer than the in-call retries wait is asked again once its
 * Retry-After has passed: the attempt is recorded with its `retryAt`, and the job waits in the work list
 * until then (after a restart too, since the wait is read from that event). Only when the wait would end
 * past the job's deadline is the job failed. Any other failure fails the job at once, with the error's
 * code and retryability (an open breaker: provider_unavailable, retryable). Answers in how many ms the
 * job is next due, when that is not the usual poll.
 */
export const createSubmitter = (options: SubmitterOptions) => {
  const { store, handle, pollEveryMs } = options;

  const waitBeforeRetry = (error: ProviderError, item: JobWorkItem): number | undefined => {
    if (error.limit !== 'rate' || !error.retryable) return undefined;
    const waitMs = Math.max(error.retryAfterMs ?? 0, pollEveryMs);
    return Date.now() + waitMs < item.deadline.getTime() ? waitMs : undefined;
  };

  return async (item: JobWorkItem, model: CatalogModel, adapter: ProviderAdapter) => {
    const events = await store.readStream(jobStreamId(item.jobId));
    const job = events.reduce(
      (state, event) => jobDecider.evolve(state, event as unknown as JobEventBody),
      jobDecider.initialState(),
    );
    // Submitted already (the tracker has not moved the row yet), canceled meanwhile, or not a job at all:
    // a provider without idempotency keys must not get the same job twice.
    if (job.status !== 'requested' || !job.request || !job.userId) return undefined;
    const retryAt = retryAtOf(events);
    if (retryAt !== undefined && retryAt > Date.now()) return retryAt - Date.now();

    const attempt = Math.max(item.attempts, job.attempts) + 1;
    const idempotencyKey = `${item.jobId}/attempt-${attempt}`;
    const userId = job.userId;
    const inputs = await Promise.all(job.inputs.map((file) => options.uploads.dataUrl(userId, file)));
    const request = {
      jobId: item.jobId,
      attempt,
      idempotencyKey,
      model,
      request: job.request,
      inputs,
      ...(options.webhookBaseUrl ? { webhookUrl: `${options.webhookBaseUrl}/${adapter.name}` } : {}),
    };
    try {
      const created =
        job.request.kind === 'image'
          ? await adapter.createImageJob(request)
          : await adapter.createVideoJob(request);
      await alreadyDoneIsFine(() =>
        handle(
          jobDecider,
          jobStreamId(item.jobId),
          {
            type: 'RecordSubmission',
            data: { provider: adapter.name, providerJobId: created.providerJobId, attempt, idempotencyKey },
          },
          systemContext(`work/${idempotencyKey}/submitted`, item.jobId),
        ),
      );
      return undefined;
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      const waitMs = waitBeforeRetry(error, item);
      const retryAt = waitMs === undefined ? {} : { retryAt: new Date(Date.now() + waitMs).toISOString() };
      await alreadyDoneIsFine(() =>
        handle(
          jobDecider,
          jobStreamId(item.jobId),
          {
            type: 'RecordAttemptFailure',
            data: {
              provider: adapter.name,
              attempt,
              code: error.code,
              retryable: error.retryable,
              ...retryAt,
            },
          },
          systemContext(`work/${idempotencyKey}/attempt-failed`, item.jobId),
        ),
      );
      if (waitMs !== undefined) return waitMs;
      await failJob(handle, item, error, `attempt-${attempt}`);
      return undefined;
    }
  };
};
