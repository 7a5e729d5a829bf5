import type { EventBody } from '@kiln/contracts/envelope';
import type { BillingEvent } from '@kiln/contracts/billing/events';

export type BillingEventBody = EventBody<BillingEvent>;

export type SettledReservation = { outcome: 'captured' | 'released'; amount: number; refunded: number };

/**
 * A billing account, folded from its `billing-<accountId>` stream. Two-phase like a pending transfer: a
 * reservation moves credits from available to reserved, and is then captured (spent) or released (back
 * to available), exactly once.
 */
export type BillingState = {
  opened: boolean;
  ownerId: string | null;
  available: number;
  reserved: number;
  /** Reservations neither captured nor released yet, by job: the account's active jobs. */
  openReservations: ReadonlyMap<string, number>;
  settled: ReadonlyMap<string, SettledReservation>;
  /** Credits bought, by payment id: a payment is credited once. */
  purchases: ReadonlyMap<string, number>;
  /** Idempotency keys of grants and adjustments already applied. */
  appliedKeys: ReadonlySet<string>;
};

export const initialBillingState = (): BillingState => ({
  opened: false,
  ownerId: null,
  available: 0,
  reserved: 0,
  openReservations: new Map(),
  settled: new Map(),
  purchases: new Map(),
  appliedKeys: new Set(),
});

const withKey = (keys: ReadonlySet<string>, key: string) => new Set(keys).add(key);
const withEntry = <V>(map: ReadonlyMap<string, V>, key: string, value: V) => new Map(map).set(key, value);
const without = <V>(map: ReadonlyMap<string, V>, key: string) => {
  const copy = new Map(map);
  copy.delete(key);
  return copy;
};

export const evolveBilling = (state: BillingState, event: BillingEventBody): BillingState => {
  switch (event.type) {
    case 'BillingAccountOpened':
      return { ...state, opened: true, ownerId: event.data.ownerId };
    case 'CreditsGranted':
      return {
        ...state,
        available: state.available + event.data.amount,
        appliedKeys: withKey(state.appliedKeys, event.data.idempotencyKey),
      };
    case 'CreditsPurchased':
      return {
        ...state,
        available: state.available + event.data.amount,
        purchases: withEntry(state.purchases, event.data.paymentId, event.data.amount),
      };
    case 'CreditsAdjusted':
      return {
        ...state,
        available: state.available + event.data.amount,
        appliedKeys: withKey(state.appliedKeys, event.data.idempotencyKey),
      };
    case 'CreditsReserved':
      return {
        ...state,
        available: state.available - event.data.amount,
        reserved: state.reserved + event.data.amount,
        openReservations: withEntry(state.openReservations, event.data.jobId, event.data.amount),
      };
    case 'CreditsCaptured':
    case 'CreditsReleased': {
      const outcome = event.type === 'CreditsCaptured' ? 'captured' : 'released';
      return {
        ...state,
        available: state.available + (outcome === 'released' ? event.data.amount : 0),
        reserved: state.reserved - event.data.amount,
        openReservations: without(state.openReservations, event.data.jobId),
        settled: withEntry(state.settled, event.data.jobId, {
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
        settled: withEntry(state.settled, event.data.jobId, {
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
