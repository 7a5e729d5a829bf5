import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Observable } from 'rxjs';
import type { EventSubscription, NewEvent, RecordedEvent } from '#src/port.ts';
import type { WakeSignal } from '#src/wakeSignal.ts';

export type Batch<Event extends NewEvent> = {
  events: RecordedEvent<Event>[];
  /** Events exist past the batch that a reader may not see yet (a transaction still running before them). */
  heldBack: boolean;
};

export type PollingOptions<Event extends NewEvent, Cursor> = {
  start: Cursor;
  readAfter: (cursor: Cursor) => Promise<Batch<Event>>;
  cursorOf: (event: RecordedEvent<Event>) => Cursor;
  wake: WakeSignal;
  batchSize: number;
  /** The safety net: how long to wait for a notification before reading again anyway. */
  pollIntervalMs: number;
  /** How soon to look again when events are held back by a transaction still running. */
  heldBackRetryMs: number;
  isTransient: (error: unknown) => boolean;
  onClose?: () => void;
};

/**
 * Catch-up and live in one loop: read the next batch after the cursor, hand each event over, and when
 * the reader is at the head, wait for a wake-up (or the poll interval) and read again. There is no seam
 * between catch-up and live, so nothing is skipped or repeated there. A dropped connection is retried
 * with backoff from the last event handed over.
 */
export const pollingSubscription = <Event extends NewEvent, Cursor>(
  options: PollingOptions<Event, Cursor>,
): EventSubscription<Event> => {
  const abort = new AbortController();
  const readPolicy = retry(handleWhen(options.isTransient), {
    maxAttempts: Number.MAX_SAFE_INTEGER,
    backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 2_000 }),
  });
  let iterated = false;

  async function* events(): AsyncGenerator<RecordedEvent<Event>> {
    let cursor = options.start;
    while (!abort.signal.aborted) {
      const generation = options.wake.generation;
      let batch: Batch<Event>;
      try {
        batch = await readPolicy.execute(() => options.readAfter(cursor), abort.signal);
      } catch (error) {
        if (abort.signal.aborted) return;
        throw error;
      }
      for (const event of batch.events) {
        if (abort.signal.aborted) return;
        yield event;
        cursor = options.cursorOf(event);
      }
      if (batch.events.length >= options.batchSize) continue;
      const waitMs = batch.heldBack ? options.heldBackRetryMs : options.pollIntervalMs;
      await options.wake.wait(generation, waitMs, abort.signal);
    }
  }

  const subscription: EventSubscription<Event> = {
    [Symbol.asyncIterator]() {
      if (iterated)
        throw new Error('a subscription can be consumed once; subscribe again for another reader');
      iterated = true;
      return events();
    },
    asObservable() {
      return new Observable<RecordedEvent<Event>>((subscriber) => {
        void (async () => {
          try {
            for await (const event of subscription) subscriber.next(event);
            subscriber.complete();
          } catch (error) {
            subscriber.error(error);
          }
        })();
        return () => void subscription.close();
      });
    },
    close() {
      if (!abort.signal.aborted) {
        abort.abort();
        options.onClose?.();
      }
      return Promise.resolve();
    },
  };
  return subscription;
};
