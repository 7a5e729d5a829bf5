// A job's page follows the job's events from the realtime hub: each one changes the job as the query
// service's own projection would, so the page shows the same thing a reload would, only sooner.
import { JobEvent } from '@kiln/contracts/job/events';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import type { JobView } from '@kiln/contracts/views';

/** The provider log lines a job keeps, like the read model. */
export const MAX_LOG_LINES = 20;

export type AppliedEvent = {
  job: JobView;
  /** The page's data should be read again: artifacts are stored, or the job is done. */
  reload: boolean;
};

const withLog = (logs: readonly string[], line: string | undefined) =>
  line === undefined ? [...logs] : [...logs, line].slice(-MAX_LOG_LINES);

/**
 * The job after one event delivered by the hub. An event of another job, one already folded in (at or
 * before the job's position) or one that is not a job event leaves the job as it is.
 */
export const applyJobEvent = (job: JobView, delivered: DeliveredEvent): AppliedEvent => {
  const unchanged = { job, reload: false };
  if (delivered.position <= job.position) return unchanged;
  const parsed = JobEvent.safeParse({
    id: delivered.id,
    type: delivered.type,
    data: delivered.data,
    metadata: delivered.metadata,
  });
  if (!parsed.success || parsed.data.data.jobId !== job.jobId) return unchanged;
  const event = parsed.data;
  const at = event.metadata.at;
  const next: JobView = { ...job, updatedAt: at, position: delivered.position };
  switch (event.type) {
    case 'JobProviderSubmitted':
      return {
        job: {
          ...next,
          status: 'submitted',
          provider: event.data.provider,
          attempts: Math.max(job.attempts, event.data.attempt),
          submittedAt: job.submittedAt ?? at,
        },
        reload: false,
      };
    case 'JobProgressed':
      return {
        job: {
          ...next,
          status: job.status === 'cancel_requested' ? job.status : 'running',
          step: event.data.step,
          progress: event.data.progress,
          queuePosition: event.data.queuePosition ?? null,
          logs: withLog(job.logs, event.data.log),
        },
        reload: false,
      };
    case 'JobProviderAttemptFailed':
      return {
        job: {
          ...next,
          attempts: Math.max(job.attempts, event.data.attempt),
          logs: withLog(
            job.logs,
            `attempt ${event.data.attempt} failed (${event.data.code})${event.data.retryable ? '; trying again' : ''}`,
          ),
        },
        reload: false,
      };
    case 'JobSucceeded':
      return {
        job: {
          ...next,
          status: 'succeeded',
          progress: 1,
          provider: event.data.provider,
          queuePosition: null,
        },
        reload: false,
      };
    case 'JobFailed':
      return {
        job: {
          ...next,
          status: 'failed',
          failure: { code: event.data.code, message: event.data.message, retryable: event.data.retryable },
          finishedAt: at,
        },
        reload: false,
      };
    case 'JobCancelRequested':
      return { job: { ...next, status: 'cancel_requested' }, reload: false };
    case 'JobCanceled':
      return { job: { ...next, status: 'canceled', finishedAt: at }, reload: false };
    case 'JobTimedOut':
      return { job: { ...next, status: 'timed_out', finishedAt: at }, reload: false };
    case 'JobArtifactsStored':
      return { job: { ...next, status: 'artifacts_stored', artifacts: event.data.artifacts }, reload: true };
    case 'JobCompleted':
      return { job: { ...next, status: 'completed', progress: 1, finishedAt: at }, reload: true };
    default:
      return unchanged;
  }
};
