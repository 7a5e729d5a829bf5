import { Map as PersistentMap, Set as PersistentSet } from 'immutable';
import type { EventBody } from '@kiln/contracts/envelope';
import type { BillingEvent } from '@kiln/contracts/billing/events';

export type BillingEventBody = EventBody<BillingEvent>;

export type SettledReservation = { outcome: 'captured' | 'released'; amount: number; refunded: number };

/**
 * A billing account, folded from its `billing-<accountId>` stream. Two-phase like a pending transfer: a
 * reservation moves credits from available to reserved, and is then captured (spent) or released (back
 * to available), exactly once. Its collections are persistent (immutable.js): an event changes one entry
 * without copying the others, so folding an account costs what its events hold, not their square.
 */
export type BillingState = {
  opened: boolean;
  ownerId: string | null;
  available: number;
  reserved: number;
  /** Reservations neither captured nor released yet, by job: the account's active jobs. */
  openReservations: PersistentMap<string, number>;
  settled: PersistentMap<string, SettledReservation>;
  /** Credits bought, by payment id: a payment is credited once. */
  purchases: PersistentMap<string, number>;
  /** Idempotency keys of grants and adjustments already applied. */
  appliedKeys: PersistentSet<string>;
};

export const initialBillingState = (): BillingState => ({
  opened: false,
  ownerId: null,
  available: 0,
  reserved: 0,
  openReservations: PersistentMap(),
  settled: PersistentMap(),
  purchases: PersistentMap(),
  appliedKeys: PersistentSet(),
});

export const evolveBilling = (state: BillingState, event: BillingEventBody): BillingState => {
  switch (event.type) {
    case 'BillingAccountOpened':
      return { ...state, opened: true, ownerId: event.data.ownerId };
    case 'CreditsGranted':
      return {
        ...state,
        available: state.available + event.data.amount,
        appliedKeys: state.appliedKeys.add(event.data.idempotencyKey),
      };
    case 'CreditsPurchased':
      return {
        ...state,
        available: state.available + event.data.amount,
        purchases: state.purchases.set(event.data.paymentId, event.data.amount),
      };
    case 'CreditsAdjusted':
      return {
        ...state,
        available: state.available + event.data.amount,
        appliedKeys: state.appliedKeys.add(event.data.idempotencyKey),
      };
    case 'CreditsReserved':
      return {
        ...state,
        available: state.available - event.data.amount,
        reserved: state.reserved + event.data.amount,
        openReservations: state.openReservations.set(event.data.jobId, event.data.amount),
      };
    case 'CreditsCaptured':
    case 'CreditsReleased': {
      const outcome = event.type === 'CreditsCaptured' ? 'captured' : 'released';
      return {
        ...state,
        available: state.available + (outcome === 'released' ? event.data.amount : 0),
        reserved: state.reserved - event.data.amount,
        openReservations: state.openReservations.delete(event.data.jobId),
        settled: state.settled.set(event.data.jobId, {
          outcome,
          amount: event.data.amount,
          refunded: 0,
        }),
      };
    }
    case 'CreditsRefunded': {
      const settled = state.settled.get(event.data.jobId);
      if (!settled) return state;
      return {
        ...state,
        available: state.available + event.data.amount,
        settled: state.settled.set(event.data.jobId, {
          ...settled,
          refunded: settled.refunded + event.data.amount,
        }),
      };
    }
    default: {
      const _exhaustive: never = event;
      return state;
    }
  }
};
