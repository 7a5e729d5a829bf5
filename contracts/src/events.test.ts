import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EventRejected, KilnEvent, parseEventForStream } from '#src/events.ts';

const metadata = {
  correlationId: 'req-1',
  causationId: null,
  actor: { kind: 'user', id: 'u1' },
  at: '2026-11-23T10:00:00.000Z',
} as const;

const reserved = {
  id: randomUUID(),
  type: 'CreditsReserved',
  data: { accountId: 'acc1', jobId: 'job1', amount: 5 },
  metadata,
};

describe('KilnEvent', () => {
  it('accepts a well-formed event of each family', () => {
    const examples = [
      reserved,
      { id: randomUUID(), type: 'JobCompleted', data: { jobId: 'job1' }, metadata },
      { id: randomUUID(), type: 'ProviderBreakerClosed', data: { provider: 'fal' }, metadata },
      { id: randomUUID(), type: 'SessionMemberLeft', data: { sessionId: 's1', userId: 'u2' }, metadata },
    ];
    for (const example of examples) expect(KilnEvent.parse(example)).toEqual(example);
  });

  it('refuses unknown fields, wrong types and bad metadata', () => {
    expect(KilnEvent.safeParse({ ...reserved, data: { ...reserved.data, extra: 1 } }).success).toBe(false);
    expect(KilnEvent.safeParse({ ...reserved, data: { ...reserved.data, amount: 1.5 } }).success).toBe(false);
    expect(KilnEvent.safeParse({ ...reserved, data: { ...reserved.data, amount: 0 } }).success).toBe(false);
    expect(KilnEvent.safeParse({ ...reserved, id: 'not-a-uuid' }).success).toBe(false);
    expect(KilnEvent.safeParse({ ...reserved, metadata: { ...metadata, at: 'yesterday' } }).success).toBe(
      false,
    );
    expect(KilnEvent.safeParse({ ...reserved, type: 'CreditsStolen' }).success).toBe(false);
  });
});

describe('parseEventForStream', () => {
  it('accepts an event in a stream of its family', () => {
    expect(parseEventForStream('billing-acc1', reserved).type).toBe('CreditsReserved');
  });

  it('refuses an event of another family, naming the stream and type', () => {
    expect(() => parseEventForStream('job-job1', reserved)).toThrow(EventRejected);
    expect(() => parseEventForStream('job-job1', reserved)).toThrow(/CreditsReserved.*job-job1/);
  });

  it('refuses a stream id outside the four families', () => {
    expect(() => parseEventForStream('ledger-acc1', reserved)).toThrow(EventRejected);
    expect(() => parseEventForStream('billing-', reserved)).toThrow(EventRejected);
  });
});
