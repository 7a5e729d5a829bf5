import type { JobStatus } from '@kiln/contracts/views';

/** Statuses after which a job changes no more. */
export const finishedStatuses: ReadonlySet<JobStatus> = new Set<JobStatus>([
  'completed',
  'failed',
  'canceled',
  'timed_out',
]);

export const isFinished = (status: JobStatus): boolean => finishedStatuses.has(status);

/** A job's status as a person reads it. */
export const statusLabel: Record<JobStatus, string> = {
  requested: 'requested',
  submitted: 'submitted',
  running: 'running',
  cancel_requested: 'canceling',
  succeeded: 'finishing',
  artifacts_stored: 'finishing',
  completed: 'completed',
  failed: 'failed',
  canceled: 'canceled',
  timed_out: 'timed out',
};
