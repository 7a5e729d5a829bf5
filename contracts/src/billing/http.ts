import { z } from 'zod';
import { EntityId, PositiveCredits } from '#src/envelope.ts';
import { Position } from '#src/position.ts';

const Reason = z.string().trim().min(3, 'say why, in a few words').max(500);

/** `POST /v1/admin/accounts/:accountId/grants` (admin, with an `Idempotency-Key` header). */
export const GrantCreditsBody = z.strictObject({ amount: PositiveCredits, reason: Reason });

/** `POST /v1/admin/accounts/:accountId/adjustments`: a signed amount, never taking available below zero. */
export const AdjustCreditsBody = z.strictObject({
  amount: z
    .int()
    .min(-1_000_000_000)
    .max(1_000_000_000)
    .refine((amount) => amount !== 0, 'an adjustment changes the balance'),
  reason: Reason,
});

/** What the payment provider posts to `POST /v1/webhooks/payments`, signed (Standard Webhooks). */
export const PaymentWebhookBody = z.strictObject({
  type: z.literal('payment.succeeded'),
  data: z.strictObject({
    paymentId: z.string().min(1).max(200),
    accountId: EntityId,
    credits: PositiveCredits,
  }),
});

export const CreditsChanged = z.strictObject({
  accountId: EntityId,
  /** Where the change landed in `$all`; null when it had happened before (a replay). */
  position: Position.nullable(),
});

export const PaymentAcknowledged = z.strictObject({
  paymentId: z.string(),
  accountId: EntityId,
  credits: PositiveCredits,
});
