import { describe, expect, it } from 'vitest';
import { DomainError } from '#src/domain/errors.ts';
import { decideBilling, type BillingCommand } from '#src/domain/billing/decide.ts';
import { evolveBilling, initialBillingState, type BillingEventBody } from '#src/domain/billing/state.ts';
import { deciderSpecification } from '#src/testing/deciderSpecification.ts';

const { given } = deciderSpecification<
  BillingCommand,
  BillingEventBody,
  ReturnType<typeof initialBillingState>
>({
  decide: decideBilling,
  evolve: evolveBilling,
  initialState: initialBillingState,
});

const accountId = 'acc1';
const opened: BillingEventBody = { type: 'BillingAccountOpened', data: { accountId, ownerId: 'u1' } };
const granted = (amount: number, key = `grant-${amount}`): BillingEventBody => ({
  type: 'CreditsGranted',
  data: { accountId, amount, reason: 'welcome credits', grantedBy: 'admin1', idempotencyKey: key },
});
const reserved = (jobId: string, amount: number): BillingEventBody => ({
  type: 'CreditsReserved',
  data: { accountId, jobId, amount },
});
const captured = (jobId: string, amount: number): BillingEventBody => ({
  type: 'CreditsCaptured',
  data: { accountId, jobId, amount },
});
const released = (jobId: string, amount: number): BillingEventBody => ({
  type: 'CreditsReleased',
  data: { accountId, jobId, amount, reason: 'the job failed' },
});
const reserve = (jobId: string, amount: number, maxActiveJobs = 5): BillingCommand => ({
  type: 'ReserveCredits',
  data: { accountId, jobId, amount, maxActiveJobs },
});
const capture = (jobId: string): BillingCommand => ({ type: 'CaptureCredits', data: { accountId, jobId } });
const release = (jobId: string): BillingCommand => ({
  type: 'ReleaseCredits',
  data: { accountId, jobId, reason: 'the job failed' },
});

const withCode = (code: string) => (error: unknown) => {
  expect(error).toBeInstanceOf(DomainError);
  expect((error as DomainError).code).toBe(code);
};

describe('billing account', () => {
  it('opens once; opening again for the same owner changes nothing, for another is refused', () => {
    given([])
      .when({ type: 'OpenAccount', data: { accountId, ownerId: 'u1' } })
      .then([opened]);
    given([opened])
      .when({ type: 'OpenAccount', data: { accountId, ownerId: 'u1' } })
      .thenNothing();
    given([opened])
      .when({ type: 'OpenAccount', data: { accountId, ownerId: 'u2' } })
      .thenThrows(withCode('rule_broken'));
  });

  it('refuses everything on an account that does not exist', () => {
    given([]).when(reserve('j1', 1)).thenThrows(withCode('not_found'));
  });

  it('grants credits once per idempotency key', () => {
    const grant: BillingCommand = { type: 'GrantCredits', data: granted(10, 'k1').data as never };
    given([opened])
      .when(grant)
      .then([granted(10, 'k1')]);
    given([opened, granted(10, 'k1')])
      .when(grant)
      .thenNothing();
  });

  it('credits a payment once; the same payment id with another amount is refused', () => {
    const purchase = (amount: number): BillingCommand => ({
      type: 'PurchaseCredits',
      data: { accountId, amount, paymentId: 'pay1' },
    });
    const purchased: BillingEventBody = {
      type: 'CreditsPurchased',
      data: { accountId, amount: 50, paymentId: 'pay1' },
    };
    given([opened]).when(purchase(50)).then([purchased]);
    given([opened, purchased]).when(purchase(50)).thenNothing();
    given([opened, purchased]).when(purchase(60)).thenThrows(withCode('rule_broken'));
  });

  it('reserves what is available, and says the shortfall when it is not', () => {
    given([opened, granted(10)])
      .when(reserve('j1', 4))
      .then([reserved('j1', 4)]);
    given([opened, granted(10), reserved('j1', 8)])
      .when(reserve('j2', 5))
      .thenThrows((error) => {
        withCode('insufficient_credits')(error);
        expect((error as DomainError).details).toEqual({ required: 5, available: 2, shortfall: 3 });
      });
  });

  it('treats a repeated reservation of a job as done, and refuses a second one of another amount', () => {
    given([opened, granted(10), reserved('j1', 4)])
      .when(reserve('j1', 4))
      .thenNothing();
    given([opened, granted(10), reserved('j1', 4)])
      .when(reserve('j1', 5))
      .thenThrows(withCode('rule_broken'));
    given([opened, granted(10), reserved('j1', 4), captured('j1', 4)])
      .when(reserve('j1', 4))
      .thenThrows(withCode('rule_broken'));
  });

  it('limits active jobs (open reservations)', () => {
    const busy = [opened, granted(100), reserved('a', 1), reserved('b', 1)];
    given(busy)
      .when(reserve('c', 1, 2))
      .thenThrows(withCode('too_many_active_jobs'));
    given([...busy, captured('a', 1)])
      .when(reserve('c', 1, 2))
      .then([reserved('c', 1)]);
  });

  it('captures or releases a reservation exactly once', () => {
    const open = [opened, granted(10), reserved('j1', 4)];
    given(open)
      .when(capture('j1'))
      .then([captured('j1', 4)]);
    given(open)
      .when(release('j1'))
      .then([released('j1', 4)]);
    given([...open, captured('j1', 4)])
      .when(capture('j1'))
      .thenNothing();
    given([...open, released('j1', 4)])
      .when(release('j1'))
      .thenNothing();
    given([...open, captured('j1', 4)])
      .when(release('j1'))
      .thenThrows(withCode('rule_broken'));
    given([...open, released('j1', 4)])
      .when(capture('j1'))
      .thenThrows(withCode('rule_broken'));
    given([opened]).when(capture('nope')).thenThrows(withCode('rule_broken'));
  });

  it('refunds captured credits, never more than were captured', () => {
    const refund = (amount: number): BillingCommand => ({
      type: 'RefundCredits',
      data: { accountId, jobId: 'j1', amount, reason: 'blurry result', refundedBy: 'admin1' },
    });
    const done = [opened, granted(10), reserved('j1', 4), captured('j1', 4)];
    given(done)
      .when(refund(3))
      .then([{ type: 'CreditsRefunded', data: refund(3).data as never }]);
    given([...done, { type: 'CreditsRefunded', data: refund(3).data as never }])
      .when(refund(2))
      .thenThrows(withCode('rule_broken'));
    given([opened, granted(10), reserved('j1', 4), released('j1', 4)])
      .when(refund(1))
      .thenThrows(withCode('rule_broken'));
  });

  it('adjusts in both directions, never below zero available', () => {
    const adjust = (amount: number, key: string): BillingCommand => ({
      type: 'AdjustCredits',
      data: { accountId, amount, reason: 'goodwill', adjustedBy: 'admin1', idempotencyKey: key },
    });
    given([opened, granted(10)])
      .when(adjust(-10, 'a1'))
      .then([{ type: 'CreditsAdjusted', data: adjust(-10, 'a1').data as never }]);
    given([opened, granted(10)])
      .when(adjust(-11, 'a2'))
      .thenThrows(withCode('insufficient_credits'));
    given([opened, granted(10), { type: 'CreditsAdjusted', data: adjust(5, 'a3').data as never }])
      .when(adjust(5, 'a3'))
      .thenNothing();
  });
});

describe('evolveBilling', () => {
  it('leaves the state it was given as it was: an event makes a new state, sharing what did not change', () => {
    const before = [opened, granted(10), reserved('j1', 2)].reduce(evolveBilling, initialBillingState());
    const after = [captured('j1', 2), reserved('j2', 3)].reduce(evolveBilling, before);

    expect([...before.openReservations]).toEqual([['j1', 2]]);
    expect(before.settled.size).toBe(0);
    expect([...after.openReservations]).toEqual([['j2', 3]]);
    expect(after.settled.get('j1')).toEqual({ outcome: 'captured', amount: 2, refunded: 0 });
    expect(after.appliedKeys).toBe(before.appliedKeys);
  });
});
