import type { KilnEvent } from '@kiln/contracts/events';
import type { Balance, LedgerEntry } from '@kiln/contracts/views';
import type { RecordedEvent } from '@kiln/event-store/port';
import {
  nothing,
  type Applied,
  type DocRef,
  type ProjectedDoc,
  type Projection,
} from '#src/projections/projection.ts';

export type BalanceDoc = Omit<Balance, 'position'> & { _id: string };
export type LedgerEntryDoc = Omit<LedgerEntry, 'position'> & { _id: string };

type BillingEvent = Extract<
  RecordedEvent<KilnEvent>,
  {
    type:
      | 'BillingAccountOpened'
      | 'CreditsGranted'
      | 'CreditsPurchased'
      | 'CreditsReserved'
      | 'CreditsCaptured'
      | 'CreditsReleased'
      | 'CreditsRefunded'
      | 'CreditsAdjusted';
  }
>;

const billingTypes = new Set<string>([
  'BillingAccountOpened',
  'CreditsGranted',
  'CreditsPurchased',
  'CreditsReserved',
  'CreditsCaptured',
  'CreditsReleased',
  'CreditsRefunded',
  'CreditsAdjusted',
]);
const isBilling = (event: RecordedEvent<KilnEvent>): event is BillingEvent => billingTypes.has(event.type);

const balanceRef = (accountId: string): DocRef => ({ collection: 'balances', id: accountId });
const credits = (amount: number) => `${amount} credit${Math.abs(amount) === 1 ? '' : 's'}`;

/** What a billing event does to the two numbers, and how a person would say it. */
const ledgerLine = (
  event: BillingEvent,
): Pick<LedgerEntry, 'kind' | 'availableChange' | 'reservedChange' | 'jobId' | 'description'> => {
  switch (event.type) {
    case 'BillingAccountOpened':
      return {
        kind: 'opened',
        availableChange: 0,
        reservedChange: 0,
        jobId: null,
        description: 'Account opened',
      };
    case 'CreditsGranted':
      return {
        kind: 'granted',
        availableChange: event.data.amount,
        reservedChange: 0,
        jobId: null,
        description: `Granted ${credits(event.data.amount)}: ${event.data.reason}`,
      };
    case 'CreditsPurchased':
      return {
        kind: 'purchased',
        availableChange: event.data.amount,
        reservedChange: 0,
        jobId: null,
        description: `Bought ${credits(event.data.amount)} (payment ${event.data.paymentId})`,
      };
    case 'CreditsReserved':
      return {
        kind: 'reserved',
        availableChange: -event.data.amount,
        reservedChange: event.data.amount,
        jobId: event.data.jobId,
        description: `Reserved ${credits(event.data.amount)} for job ${event.data.jobId}`,
      };
    case 'CreditsCaptured':
      return {
        kind: 'captured',
        availableChange: 0,
        reservedChange: -event.data.amount,
        jobId: event.data.jobId,
        description: `Spent ${credits(event.data.amount)} on job ${event.data.jobId}`,
      };
    case 'CreditsReleased':
      return {
        kind: 'released',
        availableChange: event.data.amount,
        reservedChange: -event.data.amount,
        jobId: event.data.jobId,
        description: `Gave back ${credits(event.data.amount)} held for job ${event.data.jobId}: ${event.data.reason}`,
      };
    case 'CreditsRefunded':
      return {
        kind: 'refunded',
        availableChange: event.data.amount,
        reservedChange: 0,
        jobId: event.data.jobId,
        description: `Refunded ${credits(event.data.amount)} for job ${event.data.jobId}: ${event.data.reason}`,
      };
    case 'CreditsAdjusted':
      return {
        kind: 'adjusted',
        availableChange: event.data.amount,
        reservedChange: 0,
        jobId: null,
        description: `Adjusted by ${event.data.amount > 0 ? '+' : ''}${event.data.amount}: ${event.data.reason}`,
      };
  }
};

/** The credit ledger (one entry per billing event, with the balance after it) and each account's balance. */
export const ledgerProjection: Projection = {
  name: 'ledger',
  collections: {
    ledger: { kind: 'appended', indexes: [{ key: { accountId: 1, position: -1 } }] },
    balances: { kind: 'folded', indexes: [] },
  },
  touches: (event) => (isBilling(event) ? [balanceRef(event.data.accountId)] : []),
  apply: (event, current): Applied => {
    if (!isBilling(event)) return nothing;
    const { accountId } = event.data;
    const ref = balanceRef(accountId);
    const stored = current(ref) as (ProjectedDoc & BalanceDoc) | undefined;
    if (!stored && event.type !== 'BillingAccountOpened') return nothing;
    const line = ledgerLine(event);
    const available = (stored?.available ?? 0) + line.availableChange;
    const reserved = (stored?.reserved ?? 0) + line.reservedChange;
    const balance: BalanceDoc = {
      _id: accountId,
      accountId,
      available,
      reserved,
      updatedAt: event.metadata.at,
    };
    const entry: LedgerEntryDoc = {
      _id: event.id,
      accountId,
      eventId: event.id,
      ...line,
      availableAfter: available,
      reservedAfter: reserved,
      actor: event.metadata.actor,
      at: event.metadata.at,
    };
    return { folded: [{ ref, doc: balance }], appended: [{ collection: 'ledger', doc: entry }] };
  },
};
