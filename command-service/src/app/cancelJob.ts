import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';
import type { CommandContext, CommandHandler } from '#src/app/commandHandler.ts';
import { readState } from '#src/app/readState.ts';
import { DomainError } from '#src/domain/errors.ts';
import { jobDecider } from '#src/domain/job/decide.ts';

export type Caller = { userId: string; role: 'user' | 'admin' };

/**
 * `POST /v1/jobs/:id/cancel`: the job's owner (or an admin) asks for a cancel. Before the job reached a
 * provider it is canceled at once; after, it waits for the provider to confirm, and its credits stay
 * reserved until the outcome is known. Someone else's job answers 404, as if it did not exist.
 */
export const createCancelJob =
  (deps: { handle: CommandHandler; store: EventStore<KilnEvent> }) =>
  async (caller: Caller, jobId: string, reason: string | undefined, context: CommandContext) => {
    const job = await readState(deps.store, jobDecider, jobStreamId(jobId));
    if (job.status === 'none' || (job.userId !== caller.userId && caller.role !== 'admin')) {
      throw new DomainError('not_found', 'no such job');
    }
    const result = await deps.handle(
      jobDecider,
      jobStreamId(jobId),
      { type: 'RequestCancel', data: reason ? { reason } : {} },
      context,
    );
    return {
      jobId,
      status: result.state.status === 'canceled' ? ('canceled' as const) : ('cancel_requested' as const),
      position: result.position,
    };
  };
