import { describe, it } from 'vitest';
import type { JobEventBody } from '#src/domain/job/state.ts';
import {
  artifact,
  completed,
  jobId,
  outputs,
  progressed,
  refusedWith,
  requestData,
  requested,
  stored,
  submitted,
  succeeded,
  videoRequestData,
  given,
} from '#src/domain/job/job.fixtures.ts';

describe('job', () => {
  it('is requested once; a repeat by the same user changes nothing', () => {
    given([]).when({ type: 'RequestJob', data: requestData }).then([requested]);
    given([requested]).when({ type: 'RequestJob', data: requestData }).thenNothing();
    given([requested])
      .when({ type: 'RequestJob', data: { ...requestData, userId: 'u2' } })
      .thenThrows(refusedWith('rule_broken'));
  });

  it('is requested for a video like for an image', () => {
    given([])
      .when({ type: 'RequestJob', data: videoRequestData })
      .then([{ type: 'JobRequested', data: videoRequestData }]);
    given([{ type: 'JobRequested', data: videoRequestData }])
      .when({ type: 'RequestJob', data: videoRequestData })
      .thenNothing();
  });

  it('goes requested → submitted → running → succeeded → artifacts stored → completed', () => {
    given([requested]).when({ type: 'RecordSubmission', data: submitted.data }).then([submitted]);
    given([requested, submitted])
      .when({ type: 'RecordProgress', data: { step: 'rendering', progress: 0.5 } })
      .then([progressed(0.5)]);
    given([requested, submitted, progressed(0.5)])
      .when({ type: 'RecordSuccess', data: { provider: 'local', outputs } })
      .then([succeeded]);
    given([requested, submitted, succeeded])
      .when({ type: 'StoreArtifacts', data: { artifacts: [artifact] } })
      .then([stored]);
    given([requested, submitted, succeeded, stored])
      .when({ type: 'CompleteJob', data: {} })
      .then([completed]);
  });

  it('ignores reports it already has: the same submission, older progress, a second success', () => {
    given([requested, submitted]).when({ type: 'RecordSubmission', data: submitted.data }).thenNothing();
    given([requested, submitted, progressed(0.7)])
      .when({ type: 'RecordProgress', data: { step: 'rendering', progress: 0.4 } })
      .thenNothing();
    given([requested, submitted, succeeded])
      .when({ type: 'RecordSuccess', data: { provider: 'local', outputs } })
      .thenNothing();
  });

  it('records each provider log line once, when webhooks and polling both report it', () => {
    const logged: JobEventBody = {
      type: 'JobProgressed',
      data: { jobId, step: 'sampling', progress: 0.25, log: 'step 1 of 4' },
    };
    given([requested, submitted, logged])
      .when({ type: 'RecordProgress', data: { step: 'sampling', progress: 0.25, log: 'step 1 of 4' } })
      .thenNothing();
    // Further on, with the same line: the progress is news, the line is not.
    given([requested, submitted, logged])
      .when({ type: 'RecordProgress', data: { step: 'sampling', progress: 0.5, log: 'step 1 of 4' } })
      .then([{ type: 'JobProgressed', data: { jobId, step: 'sampling', progress: 0.5 } }]);
    given([requested, submitted, logged])
      .when({ type: 'RecordProgress', data: { step: 'sampling', progress: 0.25, log: 'step 2 of 4' } })
      .then([
        { type: 'JobProgressed', data: { jobId, step: 'sampling', progress: 0.25, log: 'step 2 of 4' } },
      ]);
  });

  it('never moves back on a late report (a webhook after a poll): not to the queue, not to less progress', () => {
    given([requested, submitted, progressed(0.5)])
      .when({ type: 'RecordProgress', data: { step: 'queued', progress: 0, queuePosition: 3 } })
      .thenNothing();
    given([requested, submitted, progressed(0.5)])
      .when({ type: 'RecordProgress', data: { step: 'rendering', progress: 0 } })
      .thenNothing();
    // A line the job did not have is still news, at the progress the job has.
    given([requested, submitted, progressed(0.5)])
      .when({ type: 'RecordProgress', data: { step: 'queued', progress: 0, log: 'booting' } })
      .then([{ type: 'JobProgressed', data: { jobId, step: 'rendering', progress: 0.5, log: 'booting' } }]);
  });

  it('records each move up the provider’s queue, and not an older, further-back position', () => {
    const waiting = (queuePosition: number): JobEventBody => ({
      type: 'JobProgressed',
      data: { jobId, step: 'queued', progress: 0, queuePosition },
    });
    given([requested, submitted])
      .when({ type: 'RecordProgress', data: { step: 'queued', progress: 0, queuePosition: 3 } })
      .then([waiting(3)]);
    given([requested, submitted, waiting(3)])
      .when({ type: 'RecordProgress', data: { step: 'queued', progress: 0, queuePosition: 2 } })
      .then([waiting(2)]);
    given([requested, submitted, waiting(3), waiting(2)])
      .when({ type: 'RecordProgress', data: { step: 'queued', progress: 0, queuePosition: 2 } })
      .thenNothing();
    given([requested, submitted, waiting(3), waiting(2)])
      .when({ type: 'RecordProgress', data: { step: 'queued', progress: 0, queuePosition: 3 } })
      .thenNothing();
    given([requested, submitted, waiting(2)])
      .when({
        type: 'RecordProgress',
        data: { step: 'queued', progress: 0, queuePosition: 3, log: 'in line' },
      })
      .then([
        {
          type: 'JobProgressed',
          data: { jobId, step: 'queued', progress: 0, queuePosition: 2, log: 'in line' },
        },
      ]);
  });

  it('cancels at once before submission, and waits for the provider after', () => {
    given([requested])
      .when({ type: 'RequestCancel', data: { reason: 'changed my mind' } })
      .then([
        { type: 'JobCancelRequested', data: { jobId, reason: 'changed my mind' } },
        { type: 'JobCanceled', data: { jobId, reason: 'changed my mind' } },
      ]);
    const cancelRequested: JobEventBody = { type: 'JobCancelRequested', data: { jobId } };
    given([requested, submitted]).when({ type: 'RequestCancel', data: {} }).then([cancelRequested]);
    given([requested, submitted, cancelRequested])
      .when({ type: 'ConfirmCancel', data: {} })
      .then([{ type: 'JobCanceled', data: { jobId } }]);
    // The provider delivered anyway: the job succeeds and is paid for.
    given([requested, submitted, cancelRequested])
      .when({ type: 'RecordSuccess', data: { provider: 'local', outputs } })
      .then([succeeded]);
    given([requested, submitted])
      .when({ type: 'ConfirmCancel', data: {} })
      .thenThrows(refusedWith('rule_broken'));
  });

  it('times out only after its deadline, and not once it is over', () => {
    given([requested, submitted])
      .when({ type: 'TimeOut', data: { now: '2026-11-23T11:59:59.000Z' } })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, submitted])
      .when({ type: 'TimeOut', data: { now: '2026-11-23T12:00:00.000Z' } })
      .then([{ type: 'JobTimedOut', data: { jobId, deadline: requestData.deadline } }]);
    given([requested, { type: 'JobCanceled', data: { jobId } }])
      .when({ type: 'TimeOut', data: { now: '2026-11-24T00:00:00.000Z' } })
      .thenNothing();
    // The provider delivered: what is left (storing the outputs) does not time out.
    given([requested, submitted, succeeded])
      .when({ type: 'TimeOut', data: { now: '2026-11-24T00:00:00.000Z' } })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, submitted, succeeded, stored])
      .when({ type: 'TimeOut', data: { now: '2026-11-24T00:00:00.000Z' } })
      .thenThrows(refusedWith('rule_broken'));
    given([])
      .when({ type: 'TimeOut', data: { now: '2026-11-24T00:00:00.000Z' } })
      .thenThrows(refusedWith('not_found'));
  });
});
