import { expect } from 'vitest';
import { DomainError } from '#src/domain/errors.ts';
import { decideJob, type JobCommand } from '#src/domain/job/decide.ts';
import { evolveJob, initialJobState, type JobEventBody, type JobState } from '#src/domain/job/state.ts';
import { deciderSpecification } from '#src/testing/deciderSpecification.ts';

/** Given/when/then for the job decider, and the events of one job's life. */
export const { given } = deciderSpecification<JobCommand, JobEventBody, JobState>({
  decide: decideJob,
  evolve: evolveJob,
  initialState: initialJobState,
});

export const jobId = 'job1';
export const requestData = {
  jobId,
  accountId: 'acc1',
  userId: 'u1',
  request: {
    kind: 'image',
    modelId: 'kiln-local-image',
    prompt: 'a kiln at dusk',
    width: 512,
    height: 512,
    count: 1,
  } as const,
  inputs: [],
  cost: 2,
  deadline: '2026-11-23T12:00:00.000Z',
};
export const requested = { type: 'JobRequested', data: requestData } satisfies JobEventBody;
export const videoRequestData = {
  ...requestData,
  request: {
    kind: 'video',
    modelId: 'kiln-local-animation',
    prompt: 'embers drifting up from a kiln',
    width: 512,
    height: 512,
    durationSeconds: 4,
    fps: 12,
  } as const,
  cost: 8,
};
export const submitted = {
  type: 'JobProviderSubmitted',
  data: { jobId, provider: 'local', providerJobId: 'p-1', attempt: 1, idempotencyKey: 'job1/1' },
} satisfies JobEventBody;
export const progressed = (progress: number, step = 'rendering'): JobEventBody => ({
  type: 'JobProgressed',
  data: { jobId, step, progress },
});
export const outputs = [{ index: 0, url: 'http://127.0.0.1:9/out.png' }];
export const succeeded = {
  type: 'JobSucceeded',
  data: { jobId, provider: 'local', outputs },
} satisfies JobEventBody;
export const artifact = {
  artifactId: 'a1',
  outputIndex: 0,
  variant: 'original' as const,
  storageKey: 'job1/0/original.png',
  contentType: 'image/png',
  size: 10,
  width: 512,
  height: 512,
  sha256: 'a'.repeat(64),
};
export const stored = {
  type: 'JobArtifactsStored',
  data: { jobId, artifacts: [artifact] },
} satisfies JobEventBody;
export const completed = { type: 'JobCompleted', data: { jobId } } satisfies JobEventBody;
export const failure = { code: 'provider_error', message: 'the provider failed', retryable: true } as const;
export const failed = { type: 'JobFailed', data: { jobId, ...failure } } satisfies JobEventBody;
export const attemptFailure = {
  provider: 'local',
  attempt: 1,
  code: 'provider_unavailable',
  retryable: true,
  retryAt: '2026-11-23T11:00:05.000Z',
} as const;
export const attemptFailed = {
  type: 'JobProviderAttemptFailed',
  data: { jobId, ...attemptFailure },
} satisfies JobEventBody;

export const refusedWith = (code: string) => (error: unknown) => {
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
};
