import { describe, expect, it } from 'vitest';
import { jobsProjection } from '#src/projections/jobs.ts';
import { ledgerProjection } from '#src/projections/ledger.ts';
import { sessionsProjection } from '#src/projections/sessions.ts';
import { fold, recorded } from '#src/testing/recorded.ts';

const jobRequested = (jobId = 'j1') =>
  recorded('JobRequested', {
    jobId,
    accountId: 'a1',
    userId: 'u1',
    request: { kind: 'image', modelId: 'kiln-local-image', prompt: 'p', width: 512, height: 512, count: 1 },
    inputs: [],
    cost: 2,
    deadline: '2027-01-01T00:00:00.000Z',
  });

describe('the jobs projection', () => {
  it('follows a job from request to completion, with its logs, timings and artifacts', () => {
    const { docs, appended } = fold(jobsProjection, [
      jobRequested(),
      recorded('JobProviderSubmitted', {
        jobId: 'j1',
        provider: 'local',
        providerJobId: 'p1',
        attempt: 1,
        idempotencyKey: 'k',
      }),
      recorded('JobProgressed', {
        jobId: 'j1',
        step: 'rendering',
        progress: 0.5,
        queuePosition: 2,
        log: 'half way',
      }),
      recorded('JobSucceeded', {
        jobId: 'j1',
        provider: 'local',
        outputs: [{ index: 0, url: 'http://x/1.png' }],
      }),
      recorded('JobArtifactsStored', {
        jobId: 'j1',
        artifacts: [
          {
            artifactId: 'j1-0',
            outputIndex: 0,
            variant: 'original',
            storageKey: 'k',
            contentType: 'image/png',
            size: 1,
            width: 1,
            height: 1,
            sha256: 'a'.repeat(64),
          },
        ],
      }),
      recorded('JobCompleted', { jobId: 'j1' }),
    ]);
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({
      status: 'completed',
      progress: 1,
      provider: 'local',
      logs: ['half way'],
      queuePosition: null,
      artifacts: [{ artifactId: 'j1-0' }],
    });
    expect(docs[0]?.['submittedAt']).not.toBeNull();
    expect(docs[0]?.['finishedAt']).not.toBeNull();
    expect(appended).toEqual([expect.objectContaining({ _id: 'j1-0', jobId: 'j1', userId: 'u1' })]);
  });

  it('keeps the last 20 log lines, and a cancel asked for stays asked while progress comes in', () => {
    // Made in global order: an event made earlier has a lower position.
    const requested = jobRequested();
    const cancel = recorded('JobCancelRequested', { jobId: 'j1' });
    const progress = Array.from({ length: 25 }, (_, index) =>
      recorded('JobProgressed', { jobId: 'j1', step: 's', progress: index / 25, log: `line ${index}` }),
    );
    const { docs } = fold(jobsProjection, [requested, cancel, ...progress]);
    expect(docs[0]?.['status']).toBe('cancel_requested');
    expect(docs[0]?.['logs']).toHaveLength(20);
    expect((docs[0]?.['logs'] as string[]).at(-1)).toBe('line 24');
  });

  it('ignores events of a job it never saw requested', () => {
    expect(fold(jobsProjection, [recorded('JobCompleted', { jobId: 'ghost' })]).docs).toEqual([]);
  });
});

describe('the ledger projection', () => {
  it('writes one entry per billing event with the balance after it', () => {
    const { docs, appended } = fold(ledgerProjection, [
      recorded('BillingAccountOpened', { accountId: 'a1', ownerId: 'u1' }),
      recorded('CreditsGranted', {
        accountId: 'a1',
        amount: 10,
        reason: 'welcome',
        grantedBy: 'admin',
        idempotencyKey: 'g',
      }),
      recorded('CreditsReserved', { accountId: 'a1', jobId: 'j1', amount: 4 }),
      recorded('CreditsCaptured', { accountId: 'a1', jobId: 'j1', amount: 4 }),
      recorded('CreditsRefunded', {
        accountId: 'a1',
        jobId: 'j1',
        amount: 1,
        reason: 'blurry',
        refundedBy: 'admin',
      }),
      recorded('CreditsAdjusted', {
        accountId: 'a1',
        amount: -3,
        reason: 'correction',
        adjustedBy: 'admin',
        idempotencyKey: 'x',
      }),
    ]);
    expect(appended.map((entry) => [entry['kind'], entry['availableAfter'], entry['reservedAfter']])).toEqual(
      [
        ['opened', 0, 0],
        ['granted', 10, 0],
        ['reserved', 6, 4],
        ['captured', 6, 0],
        ['refunded', 7, 0],
        ['adjusted', 4, 0],
      ],
    );
    expect(appended[2]?.['description']).toBe('Reserved 4 credits for job j1');
    expect(docs).toEqual([expect.objectContaining({ _id: 'a1', available: 4, reserved: 0 })]);
  });
});

describe('the sessions projection', () => {
  it('counts members who join, leave and join again, and lists each job once', () => {
    const sessionId = 's1';
    const { docs } = fold(sessionsProjection, [
      recorded('SessionOpened', { sessionId, title: 'moodboard', ownerId: 'u1' }),
      recorded('SessionMemberJoined', { sessionId, userId: 'u1', displayName: 'Ann' }),
      recorded('SessionMemberJoined', { sessionId, userId: 'u2', displayName: 'Bo' }),
      recorded('SessionMemberLeft', { sessionId, userId: 'u2' }),
      recorded('SessionMemberLeft', { sessionId, userId: 'u2' }),
      recorded('SessionMemberJoined', { sessionId, userId: 'u2', displayName: 'Bo' }),
      recorded('SessionJobAdded', { sessionId, jobId: 'j1', addedBy: 'u1' }),
      recorded('SessionJobAdded', { sessionId, jobId: 'j1', addedBy: 'u2' }),
    ]);
    expect(docs.find((doc) => doc._id === sessionId)).toMatchObject({ memberCount: 2, jobIds: ['j1'] });
    expect(docs.find((doc) => doc._id === 's1/u2')).toMatchObject({ active: true, displayName: 'Bo' });
  });
});
