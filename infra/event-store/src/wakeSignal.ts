/**
 * Wakes a polling reader when something may have changed. A reader notes `generation` before it reads,
 * and `wait(generation, …)` returns at once if a change came in meanwhile, so no wake-up is lost
 * between a read and the wait that follows it.
 */
export class WakeSignal {
  generation = 0;
  #waiters = new Set<() => void>();

  bump(): void {
    this.generation += 1;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  wait(sinceGeneration: number, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.generation !== sinceGeneration || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }
}
