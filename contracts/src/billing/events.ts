import { z } from 'zod';
import { defineEvent, EntityId, PositiveCredits } from '#src/envelope.ts';

const Reason = z.string().trim().min(3, 'say why, in a few words').max(500);
const IdempotencyKey = z.string().min(1).max(200);

export const BillingAccountOpened = defineEvent(
  'BillingAccountOpened',
  z.strictObject({ accountId: EntityId, ownerId: EntityId }),
);

export const CreditsGranted = defineEvent(
  'CreditsGranted',
  z.strictObject({
    accountId: EntityId,
    amount: PositiveCredits,
    reason: Reason,
    grantedBy: EntityId,
    idempotencyKey: IdempotencyKey,
  }),
);

export const CreditsPurchased = defineEvent(
  'CreditsPurchased',
  z.strictObject({
    accountId: EntityId,
    amount: PositiveCredits,
    /** The payment's own id: the idempotency key that makes a replayed webhook charge nothing. */
    paymentId: IdempotencyKey,
  }),
);

export const CreditsReserved = defineEvent(
  'CreditsReserved',
  z.strictObject({ accountId: EntityId, jobId: EntityId, amount: PositiveCredits }),
);

export const CreditsCaptured = defineEvent(
  'CreditsCaptured',
  z.strictObject({ accountId: EntityId, jobId: EntityId, amount: PositiveCredits }),
);

export const CreditsReleased = defineEvent(
  'CreditsReleased',
  z.strictObject({ accountId: EntityId, jobId: EntityId, amount: PositiveCredits, reason: Reason }),
);

export const CreditsRefunded = defineEvent(
  'CreditsRefunded',
  z.strictObject({
    accountId: EntityId,
    jobId: EntityId,
    amount: PositiveCredits,
    reason: Reason,
    refundedBy: EntityId,
  }),
);

export const CreditsAdjusted = defineEvent(
  'CreditsAdjusted',
  z.strictObject({
    accountId: EntityId,
    /** Signed: an admin may add or take away credits, never below zero available. */
    amount: z
      .int()
      .min(-1_000_000_000)
      .max(1_000_000_000)
      .refine((amount) => amount !== 0, 'an adjustment changes the balance'),
    reason: Reason,
    adjustedBy: EntityId,
    idempotencyKey: IdempotencyKey,
  }),
);

export const BillingEvent = z.discriminatedUnion('type', [
  BillingAccountOpened,
  CreditsGranted,
  CreditsPurchased,
  CreditsReserved,
  CreditsCaptured,
  CreditsReleased,
  CreditsRefunded,
  CreditsAdjusted,
]);
export type BillingEvent = z.infer<typeof BillingEvent>;
