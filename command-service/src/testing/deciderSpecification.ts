import { expect } from 'vitest';

type Spec<Command, Event, State> = {
  decide: (command: Command, state: State) => Event[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
};

/**
 * given(events).when(command).then(events) | .thenThrows(check): folds the given events through
 * `evolve` from the initial state, runs `decide`, and checks what it decided.
 */
export const deciderSpecification = <Command, Event, State>(decider: Spec<Command, Event, State>) => ({
  given: (events: Event[]) => ({
    when: (command: Command) => {
      const decide = () => decider.decide(command, events.reduce(decider.evolve, decider.initialState()));
      return {
        then: (expected: Event[]) => expect(decide()).toEqual(expected),
        thenNothing: () => expect(decide()).toEqual([]),
        thenThrows: (check: (error: unknown) => void) => {
          let thrown: unknown;
          try {
            decide();
          } catch (error) {
            thrown = error;
          }
          expect(thrown, 'the command should have been refused').toBeDefined();
          check(thrown);
        },
      };
    },
  }),
});
