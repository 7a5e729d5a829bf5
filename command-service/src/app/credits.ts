import { billingStreamId } from '@kiln/contracts/streams';
import type { CommandContext, CommandHandler } from '#src/app/commandHandler.ts';
import { billingDecider } from '#src/domain/billing/decide.ts';

type Keyed = CommandContext & { idempotencyKey: string };

/** An admin's grants and adjustments, and purchases confirmed by the payment provider's webhook. */
export const createCredits = (deps: { handle: CommandHandler }) => {
  const onAccount = (accountId: string) => billingStreamId(accountId);
  return {
    grant: async (
      adminId: string,
      accountId: string,
      change: { amount: number; reason: string },
      context: Keyed,
    ) => {
      const result = await deps.handle(
        billingDecider,
        onAccount(accountId),
        {
          type: 'GrantCredits',
          data: {
            accountId,
            ...change,
            grantedBy: adminId,
            idempotencyKey: `${adminId}/${context.idempotencyKey}`,
          },
        },
        context,
      );
      return { accountId, position: result.position };
    },

    adjust: async (
      adminId: string,
      accountId: string,
      change: { amount: number; reason: string },
      context: Keyed,
    ) => {
      const result = await deps.handle(
        billingDecider,
        onAccount(accountId),
        {
          type: 'AdjustCredits',
          data: {
            accountId,
            ...change,
            adjustedBy: adminId,
            idempotencyKey: `${adminId}/${context.idempotencyKey}`,
          },
        },
        context,
      );
      return { accountId, position: result.position };
    },

    purchase: async (
      payment: { paymentId: string; accountId: string; credits: number },
      context: CommandContext,
    ) => {
      await deps.handle(
        billingDecider,
        onAccount(payment.accountId),
        {
          type: 'PurchaseCredits',
          data: { accountId: payment.accountId, amount: payment.credits, paymentId: payment.paymentId },
        },
        { ...context, idempotencyKey: `payment/${payment.paymentId}` },
      );
      return payment;
    },

    openAccount: async (accountId: string, ownerId: string, context: CommandContext) =>
      deps.handle(
        billingDecider,
        onAccount(accountId),
        { type: 'OpenAccount', data: { accountId, ownerId } },
        context,
      ),
  };
};

export type Credits = ReturnType<typeof createCredits>;
