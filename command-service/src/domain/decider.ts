/**
 * A decider: what a command decides given the state folded from a stream's events, and how each event
 * changes that state. Pure: no I/O, no clock (time comes in the command).
 */
export type Decider<Command, Event, State> = {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
};

export const fold = <Event, State>(
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  events: Event[],
) => events.reduce(decider.evolve, decider.initialState());
