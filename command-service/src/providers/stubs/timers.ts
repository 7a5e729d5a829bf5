/** A stub's pending timers, so closing it stops everything it still meant to do. */
export const createTimers = () => {
  const timers = new Set<NodeJS.Timeout>();
  return {
    later: (ms: number, run: () => void): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        run();
      }, ms);
      timers.add(timer);
    },
    clear: (): void => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
};
