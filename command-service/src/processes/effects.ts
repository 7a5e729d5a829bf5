import type { KilnEvent } from '@kiln/contracts/events';
import type { RecordedEvent } from '@kiln/event-store/port';
import type { CommandContext } from '#src/app/commandHandler.ts';
import { DomainError } from '#src/domain/errors.ts';

/**
 * The context of a command a process manager sends because of an event: caused by it, correlated with it,
 * and keyed by it, so a process manager that runs twice appends the same event ids (stored once).
 */
export const contextCausedBy = (
  event: RecordedEvent<KilnEvent>,
  step: string,
  now = new Date(),
): CommandContext => ({
  correlationId: event.metadata.correlationId,
  causationId: event.id,
  actor: { kind: 'system', id: 'process-manager' },
  now,
  idempotencyKey: `pm/${event.id}/${step}`,
});

/** A context for work a process manager starts on its own (a poll, a timeout), keyed by what it observed. */
export const systemContext = (key: string, correlationId: string, now = new Date()): CommandContext => ({
  correlationId,
  causationId: null,
  actor: { kind: 'system', id: 'process-manager' },
  now,
  idempotencyKey: key,
});

/**
 * Runs a command that may already have had its effect: a refusal that says so (the reservation was
 * released already, the job is already over) is the expected outcome of a repeat, not a failure.
 */
export const alreadyDoneIsFine = async (command: () => Promise<unknown>): Promise<void> => {
  try {
    await command();
  } catch (error) {
    if (error instanceof DomainError && (error.code === 'rule_broken' || error.code === 'not_found')) return;
    throw error;
  }
};
