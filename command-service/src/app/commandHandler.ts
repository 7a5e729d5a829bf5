import type { Actor } from '@kiln/contracts/envelope';
import { deterministicEventId, newEventId } from '@kiln/contracts/event-ids';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import { WrongExpectedRevision } from '@kiln/event-store/errors';
import type { EventStore } from '@kiln/event-store/port';
import { ExponentialBackoff, handleType, retry } from 'cockatiel';
import { LRUCache } from 'lru-cache';
import type { Decider } from '#src/domain/decider.ts';

/** Who asks, why, and when: what every event's metadata is made of. */
export type CommandContext = {
  correlationId: string;
  causationId: string | null;
  actor: Actor;
  now: Date;
  /** When given, event ids derive from it, so a retried command can never store its events twice. */
  idempotencyKey?: string;
};

export type Handled<State> = {
  state: State;
  /** Types of the events appended by this command (none when it repeated what already happened). */
  appended: string[];
  position: Position | null;
};

/** The stream changed under us more times than we retry; nothing was written. */
export class ConcurrencyConflict extends Error {
  readonly streamId: string;
  constructor(streamId: string) {
    super(`${streamId} kept changing while the command was decided; try again`);
    this.name = 'ConcurrencyConflict';
    this.streamId = streamId;
  }
}

type Body = { type: string; data: Record<string, unknown> };

type Folded = { state: unknown; revision: number };

/**
 * Decide → append with the expected revision, optimistically: the command is decided on the stream's
 * cached state (the initial state for a stream this process has not seen, usually a new one) and appended
 * at that revision. Only when the append finds the stream moved on, or the decision was a refusal or a
 * no-op that an unread event might change, are the newer events read and the command decided again. A
 * stale revision is retried a bounded number of times, then ConcurrencyConflict.
 *
 * The cache (an LRU of `cacheSize` streams) is never trusted on its own: the append's expected revision
 * proves the state was current, and anything not proven is read before an answer is given.
 */
export const createCommandHandler = (
  store: EventStore<KilnEvent>,
  options: { maxAttempts?: number; cacheSize?: number } = {},
) => {
  const maxAttempts = options.maxAttempts ?? 8;
  // Writers racing for one stream (a team joining a session at once) are spread out a little more after
  // each conflict, with jitter, instead of all trying again at the same moment.
  const conflicts = retry(handleType(WrongExpectedRevision), {
    maxAttempts: maxAttempts - 1,
    backoff: new ExponentialBackoff({ initialDelay: 10, maxDelay: 400 }),
  });
  const cache = new LRUCache<string, Folded>({ max: options.cacheSize ?? 10_000 });

  return async <Command, Event extends Body, State>(
    decider: Decider<Command, Event, State>,
    streamId: string,
    command: Command,
    context: CommandContext,
  ): Promise<Handled<State>> => {
    const cached = cache.get(streamId);
    let state = cached ? (cached.state as State) : decider.initialState();
    let revision = cached ? cached.revision : -1;
    let current = false;
    const catchUp = async () => {
      const newer = await store.readStream(streamId, { fromRevision: revision + 1 });
      state = newer.reduce((folded, event) => decider.evolve(folded, event as unknown as Event), state);
      revision = newer.at(-1)?.revision ?? revision;
      current = true;
      if (revision >= 0) cache.set(streamId, { state, revision });
    };

    /** Decides on the state, reading the stream first when the state is not proven current. */
    const decideOnce = async (): Promise<Event[]> => {
      for (;;) {
        let decided: Event[];
        try {
          decided = decider.decide(command, state);
        } catch (refusal) {
          if (current) throw refusal;
          await catchUp();
          continue;
        }
        if (decided.length > 0 || current) return decided;
        await catchUp();
      }
    };

    try {
      return await conflicts.execute(async ({ attempt }) => {
        if (attempt > 0) await catchUp();
        const decided = await decideOnce();
        if (decided.length === 0) return { state, appended: [], position: null };
        const events = decided.map((event, index) => envelope(event, streamId, index, context));
        const result = await store.appendToStream(streamId, events, {
          expectedRevision: revision < 0 ? 'no_stream' : revision,
        });
        const after = decided.reduce(decider.evolve, state);
        if (result.appended) cache.set(streamId, { state: after, revision: result.nextExpectedRevision });
        else cache.delete(streamId);
        return {
          state: after,
          appended: result.appended ? decided.map((event) => event.type) : [],
          position: result.position,
        };
      });
    } catch (error) {
      if (error instanceof WrongExpectedRevision) throw new ConcurrencyConflict(streamId);
      throw error;
    }
  };
};

const envelope = (event: Body, streamId: string, index: number, context: CommandContext): KilnEvent =>
  ({
    // Keys are each caller's own (HTTP scopes them per user): two members of a session may pick the same
    // key, and neither's event may pass for a retry of the other's.
    id: context.idempotencyKey
      ? deterministicEventId(
          `${context.actor.kind}:${context.actor.id}/${context.idempotencyKey}/${streamId}/${index}`,
        )
      : newEventId(),
    type: event.type,
    data: event.data,
    metadata: {
      correlationId: context.correlationId,
      causationId: context.causationId,
      actor: context.actor,
      at: context.now.toISOString(),
    },
  }) as KilnEvent;

export type CommandHandler = ReturnType<typeof createCommandHandler>;
