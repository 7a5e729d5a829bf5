/** Wakes waiting loops when something new may have arrived; each wait also ends on its own timeout. */
export class Wake {
  private waiting: Array<() => void> = [];

  bump() {
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }

  wait(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiting.push(done);
    });
  }
}
