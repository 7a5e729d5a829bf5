import type { KilnEvent, KilnEventType } from '#src/events.ts';

type DataOf<Type extends KilnEventType> = Extract<KilnEvent, { type: Type }>['data'];

const at = '2026-11-23T10:00:00.000Z';
const later = '2026-11-23T10:05:00.000Z';
const sha256 = 'ab'.repeat(32);

/**
 * One well-formed `data` for every event type Kiln stores. Typed by the event types themselves, so a
 * type added to a family without an example here fails the type check.
 */
export const exampleData: { [Type in KilnEventType]: DataOf<Type> } = {
  JobRequested: {
    jobId: 'job1',
    accountId: 'acc1',
    userId: 'u1',
    request: {
      kind: 'image',
      modelId: 'flux-schnell',
      prompt: 'a kiln at dusk',
      width: 1024,
      height: 768,
      count: 2,
    },
    inputs: [{ fileId: 'f1', contentType: 'image/png', size: 2048, sha256 }],
    cost: 4,
    deadline: later,
  },
  JobProviderSubmitted: {
    jobId: 'job1',
    provider: 'fal',
    providerJobId: 'fal-123',
    attempt: 1,
    idempotencyKey: 'job1-attempt-1',
  },
  JobProgressed: { jobId: 'job1', step: 'rendering', progress: 0.5, queuePosition: 0, log: 'step 10 of 20' },
  JobProviderAttemptFailed: {
    jobId: 'job1',
    provider: 'fal',
    attempt: 1,
    code: 'provider_timeout',
    retryable: true,
    retryAt: later,
  },
  JobSucceeded: {
    jobId: 'job1',
    provider: 'fal',
    outputs: [{ index: 0, url: 'https://cdn.example.com/job1/0.png', contentType: 'image/png' }],
  },
  JobFailed: {
    jobId: 'job1',
    code: 'content_filtered',
    message: 'The prompt was refused.',
    retryable: false,
  },
  JobCancelRequested: { jobId: 'job1', reason: 'changed my mind' },
  JobCanceled: { jobId: 'job1', reason: 'changed my mind' },
  JobTimedOut: { jobId: 'job1', deadline: later },
  JobArtifactsStored: {
    jobId: 'job1',
    artifacts: [
      {
        artifactId: 'art1',
        outputIndex: 0,
        variant: 'original',
        storageKey: 'job1/0/original.png',
        contentType: 'image/png',
        size: 123_456,
        width: 1024,
        height: 768,
        sha256,
      },
    ],
  },
  JobCompleted: { jobId: 'job1' },
  BillingAccountOpened: { accountId: 'acc1', ownerId: 'u1' },
  CreditsGranted: {
    accountId: 'acc1',
    amount: 100,
    reason: 'welcome grant',
    grantedBy: 'admin1',
    idempotencyKey: 'grant-1',
  },
  CreditsPurchased: { accountId: 'acc1', amount: 500, paymentId: 'pay_1' },
  CreditsReserved: { accountId: 'acc1', jobId: 'job1', amount: 4 },
  CreditsCaptured: { accountId: 'acc1', jobId: 'job1', amount: 4 },
  CreditsReleased: { accountId: 'acc1', jobId: 'job1', amount: 4, reason: 'the job failed' },
  CreditsRefunded: {
    accountId: 'acc1',
    jobId: 'job1',
    amount: 4,
    reason: 'blurry output',
    refundedBy: 'admin1',
  },
  CreditsAdjusted: {
    accountId: 'acc1',
    amount: -20,
    reason: 'duplicate grant',
    adjustedBy: 'admin1',
    idempotencyKey: 'adjust-1',
  },
  ProviderBreakerOpened: { provider: 'fal', consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
  ProviderBreakerHalfOpened: { provider: 'fal' },
  ProviderBreakerClosed: { provider: 'fal' },
  ProviderLimitHit: { provider: 'fal', limit: 'rate', retryAfterMs: 1_000 },
  SessionOpened: { sessionId: 's1', title: 'Moodboard', ownerId: 'u1' },
  SessionMemberInvited: { sessionId: 's1', inviteId: 'inv1', invitedBy: 'u1', expiresAt: later },
  SessionMemberJoined: { sessionId: 's1', userId: 'u2', displayName: 'Ada', inviteId: 'inv1' },
  SessionMemberLeft: { sessionId: 's1', userId: 'u2' },
  SessionJobAdded: { sessionId: 's1', jobId: 'job1', addedBy: 'u1' },
};

/** A whole event of the given type around its example data. */
export const exampleEvent = (type: KilnEventType, id = '01933b6e-8f00-7000-8000-000000000001') => ({
  id,
  type,
  data: exampleData[type],
  metadata: { correlationId: 'req-1', causationId: null, actor: { kind: 'user', id: 'u1' }, at },
});
