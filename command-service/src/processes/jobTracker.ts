import { findModel } from '@kiln/contracts/catalog';
import type { KilnEvent } from '@kiln/contracts/events';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import type { CommandHandler } from '#src/app/commandHandler.ts';
import { readState } from '#src/app/readState.ts';
import { billingDecider } from '#src/domain/billing/decide.ts';
import { jobDecider } from '#src/domain/job/decide.ts';
import { alreadyDoneIsFine, contextCausedBy } from '#src/processes/effects.ts';
import type { JobWork } from '#src/processes/jobWork.ts';

const tracked: ReadonlySet<string> = new Set([
  'CreditsReserved',
  'CreditsReleased',
  'CreditsCaptured',
  'JobRequested',
  'JobProviderSubmitted',
  'JobCancelRequested',
  'JobSucceeded',
  'JobFailed',
  'JobCanceled',
  'JobTimedOut',
  'JobArtifactsStored',
  'JobCompleted',
]);

export type JobTrackerOptions = {
  store: EventStore<KilnEvent>;
  handle: CommandHandler;
  work: JobWork;
  /** A reservation whose job was never recorded (a crash in between) is released after this long. */
  orphanReservationMs: number;
  pollEveryMs: number;
};

/**
 * Folds job and billing events into the work list, and carries out the billing side of a job's end:
 * failed, canceled or timed out → release the reservation; artifacts stored → capture it and complete
 * the job; succeeded → wait for the artifacts until a deadline. Every command is keyed by the event, so handling an event twice appends nothing new.
 */
export const createJobTracker = ({
  store,
  handle,
  work,
  orphanReservationMs,
  pollEveryMs,
}: JobTrackerOptions) => {
  const accountOf = async (jobId: string) =>
    (await readState(store, jobDecider, jobStreamId(jobId))).accountId;

  /**
   * A job that succeeded at its provider gets its model's timeout once more for its artifacts to be stored
   * (the time from its request to its deadline, counted from the success). Past it, the worker fails the
   * job and its credits are released: a media processor that is down never keeps credits reserved.
   */
  const artifactsDeadline = async (jobId: string, succeeded: RecordedEvent<KilnEvent>): Promise<Date> => {
    const [requested] = await store.readStream(jobStreamId(jobId), { maxCount: 1 });
    const succeededAt = Date.parse(succeeded.recordedAt);
    if (requested?.type !== 'JobRequested') return new Date(succeededAt);
    const timeoutMs = Math.max(0, Date.parse(requested.data.deadline) - Date.parse(requested.metadata.at));
    return new Date(succeededAt + timeoutMs);
  };

  const release = async (event: RecordedEvent<KilnEvent>, jobId: string, reason: string) => {
    const accountId = await accountOf(jobId);
    if (accountId) {
      await alreadyDoneIsFine(() =>
        handle(
          billingDecider,
          billingStreamId(accountId),
          { type: 'ReleaseCredits', data: { accountId, jobId, reason } },
          contextCausedBy(event, 'release'),
        ),
      );
    }
    await work.ended(jobId);
  };

  const handleEvent = async (event: RecordedEvent<KilnEvent>): Promise<void> => {
    switch (event.type) {
      case 'CreditsReserved':
        return work.reserved(
          event.data.jobId,
          event.data.accountId,
          new Date(Date.parse(event.recordedAt) + orphanReservationMs),
          event.position,
        );
      case 'CreditsReleased':
      case 'CreditsCaptured':
        return work.ended(event.data.jobId);
      case 'JobRequested': {
        const model = findModel(event.data.request.modelId);
        const { jobId, accountId, deadline } = event.data;
        return work.requested(
          {
            jobId,
            accountId,
            modelId: event.data.request.modelId,
            provider: model?.provider ?? 'unknown',
            deadline: new Date(deadline),
          },
          event.position,
        );
      }
      case 'JobProviderSubmitted':
        return work.moved(
          event.data.jobId,
          {
            stage: 'submitted',
            providerJobId: event.data.providerJobId,
            attempts: event.data.attempt,
            dueInMs: pollEveryMs,
          },
          event.position,
        );
      case 'JobCancelRequested':
        return work.moved(event.data.jobId, { stage: 'cancel_requested', dueInMs: 0 }, event.position);
      case 'JobSucceeded':
        return work.awaitingArtifacts(
          event.data.jobId,
          await artifactsDeadline(event.data.jobId, event),
          event.position,
        );
      case 'JobFailed':
        return release(event, event.data.jobId, 'the job failed');
      case 'JobCanceled':
        return release(event, event.data.jobId, 'the job was canceled');
      case 'JobTimedOut':
        return release(event, event.data.jobId, 'the job timed out');
      case 'JobArtifactsStored': {
        const { jobId } = event.data;
        const accountId = await accountOf(jobId);
        if (accountId) {
          await alreadyDoneIsFine(() =>
            handle(
              billingDecider,
              billingStreamId(accountId),
              { type: 'CaptureCredits', data: { accountId, jobId } },
              contextCausedBy(event, 'capture'),
            ),
          );
        }
        await alreadyDoneIsFine(() =>
          handle(
            jobDecider,
            jobStreamId(jobId),
            { type: 'CompleteJob', data: {} },
            contextCausedBy(event, 'complete'),
          ),
        );
        return work.ended(jobId);
      }
      case 'JobCompleted':
        return work.ended(event.data.jobId);
      default:
        return;
    }
  };

  return { interestedIn: (event: RecordedEvent<KilnEvent>) => tracked.has(event.type), handle: handleEvent };
};
