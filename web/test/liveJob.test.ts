import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodePosition } from '@kiln/contracts/position';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import type { JobView } from '@kiln/contracts/views';
import { applyJobEvent, MAX_LOG_LINES } from '../src/jobs/liveJob.ts';
import { isFinished, statusLabel } from '../src/jobs/status.ts';

const at = (second: number) => new Date(Date.UTC(2026, 10, 23, 20, 0, second)).toISOString();

const requested: JobView = {
  jobId: 'job-1',
  userId: 'user-1',
  accountId: 'account-1',
  kind: 'image',
  modelId: 'kiln-local-image',
  request: {
    kind: 'image',
    modelId: 'kiln-local-image',
    prompt: 'a kiln',
    width: 512,
    height: 512,
    count: 1,
  },
  cost: 2,
  status: 'requested',
  step: null,
  progress: 0,
  queuePosition: null,
  logs: [],
  provider: null,
  attempts: 0,
  failure: null,
  artifacts: [],
  sessionIds: [],
  requestedAt: at(0),
  submittedAt: null,
  finishedAt: null,
  updatedAt: at(0),
  position: encodePosition(10n, 10n),
};

let next = 10n;
const delivered = (type: string, data: Record<string, unknown>, second: number): DeliveredEvent => {
  next += 1n;
  return {
    id: randomUUID(),
    type,
    data: { jobId: 'job-1', ...data },
    metadata: {
      correlationId: 'c-1',
      causationId: null,
      actor: { kind: 'system', id: 'kiln' },
      at: at(second),
    },
    streamId: 'job-job-1',
    revision: Number(next),
    position: encodePosition(next, next),
    recordedAt: at(second),
  };
};

const thumbnail = {
  artifactId: 'a-1',
  outputIndex: 0,
  variant: 'thumbnail' as const,
  storageKey: 'jobs/job-1/0/thumbnail.webp',
  contentType: 'image/webp',
  size: 1000,
  width: 256,
  height: 256,
  sha256: 'a'.repeat(64),
};

/** Applies events one after the other, as the page does. */
const fold = (job: JobView, events: DeliveredEvent[]) =>
  events.reduce(
    (state, event) => {
      const applied = applyJobEvent(state.job, event);
      return { job: applied.job, reloads: state.reloads + (applied.reload ? 1 : 0) };
    },
    { job, reloads: 0 },
  );

describe('a job followed live', () => {
  it('moves through submission and progress, keeping the log lines and the position', () => {
    const submitted = delivered(
      'JobProviderSubmitted',
      { provider: 'local', providerJobId: 'p-1', attempt: 1, idempotencyKey: 'job-1-1' },
      1,
    );
    const progressed = delivered(
      'JobProgressed',
      { step: 'sampling 2/4', progress: 0.5, log: '50%| step 2/4' },
      2,
    );
    const { job, reloads } = fold(requested, [submitted, progressed]);
    expect(job).toMatchObject({
      status: 'running',
      provider: 'local',
      attempts: 1,
      submittedAt: at(1),
      step: 'sampling 2/4',
      progress: 0.5,
      logs: ['50%| step 2/4'],
      updatedAt: at(2),
      position: progressed.position,
    });
    expect(reloads).toBe(0);
  });

  it('keeps only the newest log lines, like the read model', () => {
    const events = Array.from({ length: MAX_LOG_LINES + 5 }, (_, line) =>
      delivered('JobProgressed', { step: 'sampling', progress: 0.1, log: `line ${line}` }, 3),
    );
    const { job } = fold(requested, events);
    expect(job.logs).toHaveLength(MAX_LOG_LINES);
    expect(job.logs.at(-1)).toBe(`line ${MAX_LOG_LINES + 4}`);
    expect(job.logs[0]).toBe('line 5');
  });

  it('stays canceling while the provider still reports progress', () => {
    const { job } = fold(requested, [
      delivered('JobCancelRequested', {}, 1),
      delivered('JobProgressed', { step: 'sampling 3/4', progress: 0.75 }, 2),
    ]);
    expect(job.status).toBe('cancel_requested');
    expect(job.progress).toBe(0.75);
    const canceled = applyJobEvent(job, delivered('JobCanceled', {}, 3));
    expect(canceled.job).toMatchObject({ status: 'canceled', finishedAt: at(3) });
    expect(isFinished(canceled.job.status)).toBe(true);
    expect(statusLabel[canceled.job.status]).toBe('canceled');
  });

  it('shows a failure with its message and finishes', () => {
    const { job } = fold(requested, [
      delivered(
        'JobFailed',
        { code: 'content_filtered', message: 'The prompt was refused.', retryable: false },
        4,
      ),
    ]);
    expect(job.failure).toEqual({
      code: 'content_filtered',
      message: 'The prompt was refused.',
      retryable: false,
    });
    expect(job.finishedAt).toBe(at(4));
    expect(isFinished(job.status)).toBe(true);
  });

  it('asks for the page again once artifacts are stored and when the job completes', () => {
    const succeeded = delivered(
      'JobSucceeded',
      { provider: 'local', outputs: [{ index: 0, url: 'http://127.0.0.1:1/out/0.png' }] },
      5,
    );
    const stored = delivered('JobArtifactsStored', { artifacts: [thumbnail] }, 6);
    const completed = delivered('JobCompleted', {}, 7);
    const afterSuccess = applyJobEvent(requested, succeeded);
    expect(afterSuccess).toMatchObject({ job: { status: 'succeeded', progress: 1 }, reload: false });
    const afterStored = applyJobEvent(afterSuccess.job, stored);
    expect(afterStored.reload).toBe(true);
    expect(afterStored.job.artifacts).toEqual([thumbnail]);
    expect(statusLabel[afterStored.job.status]).toBe('finishing');
    const afterCompleted = applyJobEvent(afterStored.job, completed);
    expect(afterCompleted).toMatchObject({ job: { status: 'completed', finishedAt: at(7) }, reload: true });
  });

  it('ignores what it has seen, other jobs and events that are not a job’s', () => {
    const seen = { ...delivered('JobCompleted', {}, 1), position: requested.position };
    expect(applyJobEvent(requested, seen)).toEqual({ job: requested, reload: false });
    const other = delivered('JobCompleted', { jobId: 'job-2' }, 1);
    expect(applyJobEvent(requested, other).job).toBe(requested);
    const billing = delivered('CreditsGranted', { amount: 5 }, 1);
    expect(applyJobEvent(requested, billing).job).toBe(requested);
    const malformed = delivered('JobProgressed', { step: '', progress: 7 }, 1);
    expect(applyJobEvent(requested, malformed).job).toBe(requested);
  });
});
