import type { Artifact, JobFailureCode, JobOutput } from '@kiln/contracts/job/events';
import type { GenerationRequest, InputFile } from '@kiln/contracts/job/request';
import type { Decider } from '#src/domain/decider.ts';
import { DomainError, ruleBroken } from '#src/domain/errors.ts';
import {
  evolveJob,
  initialJobState,
  terminalStatuses,
  type JobEventBody,
  type JobState,
  type JobStatus,
} from '#src/domain/job/state.ts';

export type JobCommand =
  | {
      type: 'RequestJob';
      data: {
        jobId: string;
        accountId: string;
        userId: string;
        request: GenerationRequest;
        inputs: InputFile[];
        cost: number;
        deadline: string;
      };
    }
  | {
      type: 'RecordSubmission';
      data: { provider: string; providerJobId: string; attempt: number; idempotencyKey: string };
    }
  | { type: 'RecordProgress'; data: { step: string; progress: number; queuePosition?: number; log?: string } }
  | {
      type: 'RecordAttemptFailure';
      data: { provider: string; attempt: number; code: JobFailureCode; retryable: boolean; retryAt?: string };
    }
  | { type: 'RecordSuccess'; data: { provider: string; outputs: JobOutput[] } }
  | { type: 'FailJob'; data: { code: JobFailureCode; message: string; retryable: boolean } }
  | { type: 'RequestCancel'; data: { reason?: string } }
  | { type: 'ConfirmCancel'; data: { reason?: string } }
  | { type: 'TimeOut'; data: { now: string } }
  | { type: 'StoreArtifacts'; data: { artifacts: Artifact[] } }
  | { type: 'CompleteJob'; data: Record<string, never> };

const inFlight: ReadonlySet<JobStatus> = new Set(['requested', 'submitted', 'running', 'cancel_requested']);

const refuse = (state: JobState, doing: string) =>
  state.status === 'none'
    ? new DomainError('not_found', 'no such job')
    : ruleBroken(`cannot ${doing}: the job is ${state.status.replace('_', ' ')}`);

/**
 * What a progress report adds to a running job. A report older than the job (a webhook that came late,
 * after a poll saw further) never moves it back: not to the queue once it ran, not to less progress, not
 * further back in the queue. A log line the job did not have is news all the same.
 */
const recordProgress = (
  state: JobState,
  { log, queuePosition, ...report }: Extract<JobCommand, { type: 'RecordProgress' }>['data'],
): JobEventBody[] => {
  const newLog = log !== undefined && !state.recentLogs.includes(log) ? log : undefined;
  const backToQueue = report.step === 'queued' && state.step !== null && state.step !== 'queued';
  const step = backToQueue ? state.step : report.step;
  const progress = Math.max(report.progress, state.progress);
  const position = backToQueue ? undefined : queuePosition;
  const movedUp = position !== undefined && (state.queuePosition === null || position < state.queuePosition);
  if (step === state.step && progress <= state.progress && newLog === undefined && !movedUp) return [];
  return [
    {
      type: 'JobProgressed',
      data: {
        jobId: state.jobId ?? '',
        step: step ?? report.step,
        progress,
        ...(position === undefined
          ? {}
          : { queuePosition: Math.min(position, state.queuePosition ?? position) }),
        ...(newLog === undefined ? {} : { log: newLog }),
      },
    },
  ];
};

/**
 * The life of a job. Commands that repeat a fact already recorded decide nothing (providers' webhooks
 * and polling both report, and process managers may run twice); illegal transitions are refused with
 * a DomainError.
 */
export const decideJob = (command: JobCommand, state: JobState): JobEventBody[] => {
  const jobId = state.jobId ?? '';
  switch (command.type) {
    case 'RequestJob':
      if (state.status !== 'none') {
        if (state.jobId === command.data.jobId && state.userId === command.data.userId) return [];
        throw ruleBroken(`job ${command.data.jobId} already exists`);
      }
      return [{ type: 'JobRequested', data: command.data }];

    case 'RecordSubmission':
      if (!inFlight.has(state.status)) throw refuse(state, 'record a provider submission');
      if (state.providerJobId === command.data.providerJobId) return [];
      if (command.data.attempt <= state.attempts && state.providerJobId !== null) {
        throw ruleBroken(`attempt ${command.data.attempt} was already submitted`);
      }
      return [{ type: 'JobProviderSubmitted', data: { jobId, ...command.data } }];

    case 'RecordProgress':
      if (!inFlight.has(state.status) || state.status === 'requested') throw refuse(state, 'record progress');
      return recordProgress(state, command.data);

    case 'RecordAttemptFailure':
      if (!inFlight.has(state.status)) throw refuse(state, 'record a failed attempt');
      return [{ type: 'JobProviderAttemptFailed', data: { jobId, ...command.data } }];

    case 'RecordSuccess':
      if (state.status === 'succeeded' || state.status === 'artifacts_stored' || state.status === 'completed')
        return [];
      // A provider may deliver after a cancel was asked for: the outputs are kept and paid for.
      if (!inFlight.has(state.status)) throw refuse(state, 'record a success');
      return [{ type: 'JobSucceeded', data: { jobId, ...command.data } }];

    case 'FailJob':
      if (state.status === 'failed') return [];
      if (!inFlight.has(state.status) && state.status !== 'succeeded') throw refuse(state, 'fail it');
      return [{ type: 'JobFailed', data: { jobId, ...command.data } }];

    case 'RequestCancel':
      if (state.status === 'cancel_requested' || state.status === 'canceled') return [];
      if (!inFlight.has(state.status)) throw refuse(state, 'cancel it');
      // Not yet at a provider: nothing to wait for.
      if (state.status === 'requested') {
        return [
          { type: 'JobCancelRequested', data: { jobId, ...command.data } },
          { type: 'JobCanceled', data: { jobId, ...command.data } },
        ];
      }
      return [{ type: 'JobCancelRequested', data: { jobId, ...command.data } }];

    case 'ConfirmCancel':
      if (state.status === 'canceled') return [];
      if (state.status !== 'cancel_requested') throw refuse(state, 'confirm a cancel');
      return [{ type: 'JobCanceled', data: { jobId, ...command.data } }];

    case 'TimeOut':
      if (terminalStatuses.has(state.status)) return [];
      if (!inFlight.has(state.status)) throw refuse(state, 'time it out');
      if (state.deadline === null || Date.parse(command.data.now) < Date.parse(state.deadline)) {
        throw ruleBroken(`the job's deadline (${state.deadline}) has not passed`);
      }
      return [{ type: 'JobTimedOut', data: { jobId, deadline: state.deadline } }];

    case 'StoreArtifacts':
      if (state.status === 'artifacts_stored' || state.status === 'completed') return [];
      if (state.status !== 'succeeded') throw refuse(state, 'store artifacts');
      return [{ type: 'JobArtifactsStored', data: { jobId, ...command.data } }];

    case 'CompleteJob':
      if (state.status === 'completed') return [];
      if (state.status !== 'artifacts_stored') throw refuse(state, 'complete it');
      return [{ type: 'JobCompleted', data: { jobId } }];

    default: {
      const _exhaustive: never = command;
      throw ruleBroken('unknown job command');
    }
  }
};

export const jobDecider: Decider<JobCommand, JobEventBody, JobState> = {
  decide: decideJob,
  evolve: evolveJob,
  initialState: initialJobState,
};
