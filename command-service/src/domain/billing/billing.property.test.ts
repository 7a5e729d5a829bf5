import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '#src/domain/errors.ts';
import { decideBilling, type BillingCommand } from '#src/domain/billing/decide.ts';
import { evolveBilling, initialBillingState, type BillingEventBody } from '#src/domain/billing/state.ts';

const accountId = 'acc';
const jobIds = ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7'];
const keys = ['k1', 'k2', 'k3', 'k4'];
const job = fc.constantFrom(...jobIds);
const amount = fc.integer({ min: 1, max: 40 });

const command: fc.Arbitrary<BillingCommand> = fc.oneof(
  fc.record({ type: fc.constant('OpenAccount' as const), data: fc.constant({ accountId, ownerId: 'u1' }) }),
  fc.record({
    type: fc.constant('GrantCredits' as const),
    data: fc.record({
      accountId: fc.constant(accountId),
      amount,
      reason: fc.constant('grant'),
      grantedBy: fc.constant('a'),
      idempotencyKey: fc.constantFrom(...keys),
    }),
  }),
  fc.record({
    type: fc.constant('PurchaseCredits' as const),
    data: fc.record({
      accountId: fc.constant(accountId),
      amount,
      paymentId: fc.constantFrom('p1', 'p2', 'p3'),
    }),
  }),
  fc.record({
    type: fc.constant('AdjustCredits' as const),
    data: fc.record({
      accountId: fc.constant(accountId),
      amount: fc.integer({ min: -40, max: 40 }).filter((n) => n !== 0),
      reason: fc.constant('adjust'),
      adjustedBy: fc.constant('a'),
      idempotencyKey: fc.constantFrom(...keys.map((k) => `adj-${k}`)),
    }),
  }),
  fc.record({
    type: fc.constant('ReserveCredits' as const),
    data: fc.record({ accountId: fc.constant(accountId), jobId: job, amount, maxActiveJobs: fc.constant(5) }),
  }),
  fc.record({
    type: fc.constant('CaptureCredits' as const),
    data: fc.record({ accountId: fc.constant(accountId), jobId: job }),
  }),
  fc.record({
    type: fc.constant('ReleaseCredits' as const),
    data: fc.record({ accountId: fc.constant(accountId), jobId: job, reason: fc.constant('failed') }),
  }),
  fc.record({
    type: fc.constant('RefundCredits' as const),
    data: fc.record({
      accountId: fc.constant(accountId),
      jobId: job,
      amount,
      reason: fc.constant('refund'),
      refundedBy: fc.constant('a'),
    }),
  }),
);

describe('billing invariants under random command sequences', () => {
  it('never go below zero, settle each reservation once, and conserve every credit', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
        let state = initialBillingState();
        const history: BillingEventBody[] = [];
        for (const cmd of commands) {
          let events: BillingEventBody[];
          try {
            events = decideBilling(cmd, state);
          } catch (error) {
            expect(error).toBeInstanceOf(DomainError);
            continue;
          }
          for (const event of events) {
            state = evolveBilling(state, event);
            history.push(event);
          }
          expect(state.available).toBeGreaterThanOrEqual(0);
          expect(state.reserved).toBeGreaterThanOrEqual(0);
          expect(state.openReservations.size).toBeLessThanOrEqual(5);
        }
        const sum = (type: BillingEventBody['type']) =>
          history
            .filter((e) => e.type === type)
            .reduce((total, e) => total + (e.data as { amount: number }).amount, 0);
        // Credits in = credits free + credits held + credits spent (captured minus refunded).
        expect(sum('CreditsGranted') + sum('CreditsPurchased') + sum('CreditsAdjusted')).toBe(
          state.available + state.reserved + sum('CreditsCaptured') - sum('CreditsRefunded'),
        );
        for (const jobId of jobIds) {
          const settlements = history.filter(
            (e) => (e.type === 'CreditsCaptured' || e.type === 'CreditsReleased') && e.data.jobId === jobId,
          );
          const reservations = history.filter((e) => e.type === 'CreditsReserved' && e.data.jobId === jobId);
          expect(settlements.length).toBeLessThanOrEqual(1);
          expect(reservations.length).toBeLessThanOrEqual(1);
        }
        const paymentIds = history.filter((e) => e.type === 'CreditsPurchased').map((e) => e.data.paymentId);
        expect(new Set(paymentIds).size).toBe(paymentIds.length);
      }),
      { numRuns: 500 },
    );
  });
});
