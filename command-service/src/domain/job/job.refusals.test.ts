import { describe, expect, it } from 'vitest';
import type { DomainError } from '#src/domain/errors.ts';
import {
  artifact,
  attemptFailed,
  attemptFailure,
  completed,
  failed,
  failure,
  jobId,
  outputs,
  refusedWith,
  requested,
  stored,
  submitted,
  succeeded,
  given,
} from '#src/domain/job/job.fixtures.ts';

describe('job refusals', () => {
  it('refuses illegal transitions', () => {
    given([])
      .when({ type: 'RecordProgress', data: { step: 's', progress: 0.1 } })
      .thenThrows(refusedWith('not_found'));
    given([requested]).when({ type: 'CompleteJob', data: {} }).thenThrows(refusedWith('rule_broken'));
    given([requested])
      .when({ type: 'StoreArtifacts', data: { artifacts: [artifact] } })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, failed])
      .when({ type: 'RecordSuccess', data: { provider: 'local', outputs } })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, failed])
      .when({ type: 'RequestCancel', data: {} })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, submitted, succeeded, stored, completed])
      .when({ type: 'FailJob', data: { code: 'internal', message: 'x', retryable: false } })
      .thenThrows(refusedWith('rule_broken'));
  });

  it('refuses a submission once the job is over, and a second provider job for an attempt already submitted', () => {
    given([]).when({ type: 'RecordSubmission', data: submitted.data }).thenThrows(refusedWith('not_found'));
    given([requested, failed])
      .when({ type: 'RecordSubmission', data: submitted.data })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, submitted, succeeded])
      .when({ type: 'RecordSubmission', data: { ...submitted.data, providerJobId: 'p-2', attempt: 2 } })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, submitted])
      .when({ type: 'RecordSubmission', data: { ...submitted.data, providerJobId: 'p-2' } })
      .thenThrows((error) => {
        refusedWith('rule_broken')(error);
        expect((error as DomainError).message).toBe('attempt 1 was already submitted');
      });
    // A later attempt is a new submission.
    const resubmitted = { ...submitted.data, providerJobId: 'p-2', attempt: 2, idempotencyKey: 'job1/2' };
    given([requested, submitted, attemptFailed])
      .when({ type: 'RecordSubmission', data: resubmitted })
      .then([{ type: 'JobProviderSubmitted', data: resubmitted }]);
  });

  it('records progress only once a provider has the job', () => {
    given([requested])
      .when({ type: 'RecordProgress', data: { step: 'queued', progress: 0 } })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, submitted, succeeded])
      .when({ type: 'RecordProgress', data: { step: 'rendering', progress: 0.9 } })
      .thenThrows(refusedWith('rule_broken'));
  });

  it('records a failed provider attempt while the job is in flight, and refuses one after it is over', () => {
    given([requested]).when({ type: 'RecordAttemptFailure', data: attemptFailure }).then([attemptFailed]);
    given([requested, submitted])
      .when({ type: 'RecordAttemptFailure', data: { ...attemptFailure, attempt: 2 } })
      .then([{ type: 'JobProviderAttemptFailed', data: { jobId, ...attemptFailure, attempt: 2 } }]);
    given([])
      .when({ type: 'RecordAttemptFailure', data: attemptFailure })
      .thenThrows(refusedWith('not_found'));
    given([requested, submitted, succeeded])
      .when({ type: 'RecordAttemptFailure', data: attemptFailure })
      .thenThrows(refusedWith('rule_broken'));
    given([requested, { type: 'JobCanceled', data: { jobId } }])
      .when({ type: 'RecordAttemptFailure', data: attemptFailure })
      .thenThrows(refusedWith('rule_broken'));
  });

  it('fails in flight or after the provider succeeded, once', () => {
    given([requested, submitted]).when({ type: 'FailJob', data: failure }).then([failed]);
    given([requested, attemptFailed]).when({ type: 'FailJob', data: failure }).then([failed]);
    // The outputs could not be stored.
    const unstorable = {
      code: 'output_invalid',
      message: 'the output is not an image',
      retryable: false,
    } as const;
    given([requested, submitted, succeeded])
      .when({ type: 'FailJob', data: unstorable })
      .then([{ type: 'JobFailed', data: { jobId, ...unstorable } }]);
    given([requested, submitted, failed]).when({ type: 'FailJob', data: failure }).thenNothing();
    given([]).when({ type: 'FailJob', data: failure }).thenThrows(refusedWith('not_found'));
    given([requested, submitted, succeeded, stored])
      .when({ type: 'FailJob', data: failure })
      .thenThrows(refusedWith('rule_broken'));
  });
});
