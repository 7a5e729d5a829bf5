import type { Decider } from '#src/domain/decider.ts';
import { DomainError, ruleBroken } from '#src/domain/errors.ts';
import {
  evolveBilling,
  initialBillingState,
  type BillingEventBody,
  type BillingState,
} from '#src/domain/billing/state.ts';

export type BillingCommand =
  | { type: 'OpenAccount'; data: { accountId: string; ownerId: string } }
  | {
      type: 'GrantCredits';
      data: { accountId: string; amount: number; reason: string; grantedBy: string; idempotencyKey: string };
    }
  | { type: 'PurchaseCredits'; data: { accountId: string; amount: number; paymentId: string } }
  | {
      type: 'AdjustCredits';
      data: { accountId: string; amount: number; reason: string; adjustedBy: string; idempotencyKey: string };
    }
  | {
      type: 'ReserveCredits';
      data: { accountId: string; jobId: string; amount: number; maxActiveJobs: number };
    }
  | { type: 'CaptureCredits'; data: { accountId: string; jobId: string } }
  | { type: 'ReleaseCredits'; data: { accountId: string; jobId: string; reason: string } }
  | {
      type: 'RefundCredits';
      data: { accountId: string; jobId: string; amount: number; reason: string; refundedBy: string };
    };

const requireOpen = (state: BillingState, accountId: string) => {
  if (!state.opened) throw new DomainError('not_found', `billing account ${accountId} does not exist`);
};

const insufficient = (required: number, available: number) =>
  new DomainError('insufficient_credits', `you need ${required - available} more credits`, {
    required,
    available,
    shortfall: required - available,
  });

/**
 * The billing rules. Available credits never go below zero; a reservation is captured or released
 * exactly once; a payment, a grant or an adjustment with a key seen before changes nothing. Commands
 * that repeat what already happened decide no events (so a retry is harmless); commands that contradict
 * it are refused.
 */
export const decideBilling = (command: BillingCommand, state: BillingState): BillingEventBody[] => {
  const { data } = command;
  switch (command.type) {
    case 'OpenAccount':
      if (state.opened) {
        if (state.ownerId === command.data.ownerId) return [];
        throw ruleBroken(`billing account ${data.accountId} belongs to someone else`);
      }
      return [
        { type: 'BillingAccountOpened', data: { accountId: data.accountId, ownerId: command.data.ownerId } },
      ];

    case 'GrantCredits':
      requireOpen(state, data.accountId);
      if (state.appliedKeys.has(command.data.idempotencyKey)) return [];
      return [{ type: 'CreditsGranted', data: command.data }];

    case 'PurchaseCredits': {
      requireOpen(state, data.accountId);
      const earlier = state.purchases.get(command.data.paymentId);
      if (earlier === command.data.amount) return [];
      if (earlier !== undefined) {
        throw ruleBroken(`payment ${command.data.paymentId} was already credited with ${earlier} credits`);
      }
      return [{ type: 'CreditsPurchased', data: command.data }];
    }

    case 'AdjustCredits':
      requireOpen(state, data.accountId);
      if (state.appliedKeys.has(command.data.idempotencyKey)) return [];
      if (state.available + command.data.amount < 0)
        throw insufficient(-command.data.amount, state.available);
      return [{ type: 'CreditsAdjusted', data: command.data }];

    case 'ReserveCredits': {
      requireOpen(state, data.accountId);
      const { jobId, amount, maxActiveJobs } = command.data;
      const open = state.openReservations.get(jobId);
      if (open === amount) return [];
      if (open !== undefined) throw ruleBroken(`job ${jobId} already has a reservation`);
      if (state.settled.has(jobId))
        throw ruleBroken(
          `the reservation of job ${jobId} was already settled; send a new request with a new Idempotency-Key`,
        );
      if (state.openReservations.size >= maxActiveJobs) {
        throw new DomainError(
          'too_many_active_jobs',
          `you have ${maxActiveJobs} active jobs; wait for one to finish`,
          {
            limit: maxActiveJobs,
          },
        );
      }
      if (state.available < amount) throw insufficient(amount, state.available);
      return [{ type: 'CreditsReserved', data: { accountId: data.accountId, jobId, amount } }];
    }

    case 'CaptureCredits':
    case 'ReleaseCredits': {
      requireOpen(state, data.accountId);
      const wanted = command.type === 'CaptureCredits' ? 'captured' : 'released';
      const settled = state.settled.get(command.data.jobId);
      if (settled?.outcome === wanted) return [];
      if (settled)
        throw ruleBroken(`the reservation of job ${command.data.jobId} was already ${settled.outcome}`);
      const amount = state.openReservations.get(command.data.jobId);
      if (amount === undefined) throw ruleBroken(`job ${command.data.jobId} has no reservation`);
      return command.type === 'CaptureCredits'
        ? [
            {
              type: 'CreditsCaptured',
              data: { accountId: data.accountId, jobId: command.data.jobId, amount },
            },
          ]
        : [
            {
              type: 'CreditsReleased',
              data: {
                accountId: data.accountId,
                jobId: command.data.jobId,
                amount,
                reason: command.data.reason,
              },
            },
          ];
    }

    case 'RefundCredits': {
      requireOpen(state, data.accountId);
      const settled = state.settled.get(command.data.jobId);
      if (settled?.outcome !== 'captured')
        throw ruleBroken(`job ${command.data.jobId} has no captured credits to refund`);
      const refundable = settled.amount - settled.refunded;
      if (command.data.amount > refundable) {
        throw ruleBroken(`at most ${refundable} credits of job ${command.data.jobId} can still be refunded`);
      }
      return [{ type: 'CreditsRefunded', data: command.data }];
    }

    default: {
      const _exhaustive: never = command;
      throw ruleBroken('unknown billing command');
    }
  }
};

export const billingDecider: Decider<BillingCommand, BillingEventBody, BillingState> = {
  decide: decideBilling,
  evolve: evolveBilling,
  initialState: initialBillingState,
};
