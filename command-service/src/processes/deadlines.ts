import type { CatalogModel } from '@kiln/contracts/catalog';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import type { CommandHandler } from '#src/app/commandHandler.ts';
import { billingDecider } from '#src/domain/billing/decide.ts';
import { jobDecider } from '#src/domain/job/decide.ts';
import { alreadyDoneIsFine, systemContext } from '#src/processes/effects.ts';
import type { JobWorkItem } from '#src/processes/jobWork.ts';
import { failJob } from '#src/processes/submission.ts';
import { ProviderError, type ProviderAdapter } from '#src/providers/port.ts';

/**
 * What the worker does with a job past its deadline, by its stage:
 * - reserved (its request was never recorded, after a crash): the reservation is released;
 * - at the provider (requested, submitted, cancel requested): canceled there, best effort, and timed out;
 * - succeeded, its artifacts not stored by their deadline: failed (timed_out, retryable). Either way the
 *   tracker then releases the credits, so nothing stays reserved however late the end comes.
 */
export const createDeadlines = (handle: CommandHandler) => {
  const releaseOrphan = (item: JobWorkItem) =>
    alreadyDoneIsFine(() =>
      handle(
        billingDecider,
        billingStreamId(item.accountId),
        {
          type: 'ReleaseCredits',
          data: { accountId: item.accountId, jobId: item.jobId, reason: 'the job was never recorded' },
        },
        systemContext(`work/${item.jobId}/orphan-release`, item.jobId),
      ),
    );

  const timeOut = async (item: JobWorkItem, model?: CatalogModel, adapter?: ProviderAdapter) => {
    if (item.providerJobId && model && adapter)
      await adapter.cancel(item.providerJobId, model).catch(() => undefined);
    await alreadyDoneIsFine(() =>
      handle(
        jobDecider,
        jobStreamId(item.jobId),
        { type: 'TimeOut', data: { now: new Date().toISOString() } },
        systemContext(`work/${item.jobId}/timed-out`, item.jobId),
      ),
    );
  };

  const artifactsOverdue = (item: JobWorkItem) =>
    failJob(
      handle,
      item,
      new ProviderError('timed_out', 'the artifacts were not stored in time', { retryable: true }),
      'artifacts-overdue',
    );

  return {
    passed: (item: JobWorkItem, model?: CatalogModel, adapter?: ProviderAdapter) =>
      item.stage === 'reserved'
        ? releaseOrphan(item)
        : item.stage === 'succeeded'
          ? artifactsOverdue(item)
          : timeOut(item, model, adapter),
  };
};
