import type { EventBody } from '@kiln/contracts/envelope';
import type { JobEvent, JobOutput } from '@kiln/contracts/job/events';
import type { GenerationRequest, InputFile } from '@kiln/contracts/job/request';

export type JobEventBody = EventBody<JobEvent>;

export type JobStatus =
  | 'none'
  | 'requested'
  | 'submitted'
  | 'running'
  | 'cancel_requested'
  | 'succeeded'
  | 'artifacts_stored'
  | 'completed'
  | 'failed'
  | 'canceled'
  | 'timed_out';

export const terminalStatuses: ReadonlySet<JobStatus> = new Set([
  'completed',
  'failed',
  'canceled',
  'timed_out',
]);

/** A job, folded from its `job-<jobId>` stream. */
export type JobState = {
  status: JobStatus;
  jobId: string | null;
  accountId: string | null;
  userId: string | null;
  request: GenerationRequest | null;
  inputs: readonly InputFile[];
  cost: number;
  deadline: string | null;
  provider: string | null;
  providerJobId: string | null;
  attempts: number;
  step: string | null;
  progress: number;
  /** Where the job last was in the provider's queue, while it waits there. */
  queuePosition: number | null;
  /** The provider's last log lines recorded: webhooks and polling report the same line twice. */
  recentLogs: readonly string[];
  outputs: readonly JobOutput[];
};

/** How many of its latest log lines a job remembers, to record each one once. */
export const RECENT_LOG_LINES = 20;

export const initialJobState = (): JobState => ({
  status: 'none',
  jobId: null,
  accountId: null,
  userId: null,
  request: null,
  inputs: [],
  cost: 0,
  deadline: null,
  provider: null,
  providerJobId: null,
  attempts: 0,
  step: null,
  progress: 0,
  queuePosition: null,
  recentLogs: [],
  outputs: [],
});

export const evolveJob = (state: JobState, event: JobEventBody): JobState => {
  switch (event.type) {
    case 'JobRequested': {
      const { jobId, accountId, userId, request, inputs, cost, deadline } = event.data;
      return { ...state, status: 'requested', jobId, accountId, userId, request, inputs, cost, deadline };
    }
    case 'JobProviderSubmitted':
      return {
        ...state,
        status: state.status === 'cancel_requested' ? state.status : 'submitted',
        provider: event.data.provider,
        providerJobId: event.data.providerJobId,
        attempts: Math.max(state.attempts, event.data.attempt),
      };
    case 'JobProgressed':
      return {
        ...state,
        status: state.status === 'cancel_requested' ? state.status : 'running',
        step: event.data.step,
        progress: event.data.progress,
        queuePosition: event.data.queuePosition ?? null,
        recentLogs:
          event.data.log === undefined
            ? state.recentLogs
            : [...state.recentLogs, event.data.log].slice(-RECENT_LOG_LINES),
      };
    case 'JobProviderAttemptFailed':
      return { ...state, attempts: Math.max(state.attempts, event.data.attempt) };
    case 'JobSucceeded':
      return { ...state, status: 'succeeded', progress: 1, outputs: event.data.outputs };
    case 'JobFailed':
      return { ...state, status: 'failed' };
    case 'JobCancelRequested':
      return { ...state, status: 'cancel_requested' };
    case 'JobCanceled':
      return { ...state, status: 'canceled' };
    case 'JobTimedOut':
      return { ...state, status: 'timed_out' };
    case 'JobArtifactsStored':
      return { ...state, status: 'artifacts_stored' };
    case 'JobCompleted':
      return { ...state, status: 'completed' };
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
};
