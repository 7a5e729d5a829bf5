import type { KilnEvent } from '@kiln/contracts/events';
import type { EventStore } from '@kiln/event-store/port';
import type { Decider } from '#src/domain/decider.ts';

/** The current state of one stream, folded through its decider: for checks before a command. */
export const readState = async <Event, State>(
  store: EventStore<KilnEvent>,
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  streamId: string,
): Promise<State> => {
  const events = await store.readStream(streamId);
  return events.reduce(
    (state, event) => decider.evolve(state, event as unknown as Event),
    decider.initialState(),
  );
};
