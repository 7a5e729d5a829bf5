import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { Observable } from 'rxjs';
import type { EventSubscription, NewEvent, RecordedEvent } from '#src/port.ts';

/** What the client's catch-up subscriptions are to this module: a pull-based stream that can be cancelled. */
export type CatchUpSource<Resolved> = AsyncIterable<Resolved> & {
  unsubscribe(): Promise<void>;
  destroy(): unknown;
};

export type ResubscribingOptions<Event extends NewEvent, Cursor, Resolved> = {
  /** The point to deliver events after: a position in `$all`, or a revision in a stream. */
  start: Cursor;
  /** Opens an EventStoreDB catch-up subscription that delivers the events after `cursor`. */
  open: (cursor: Cursor) => CatchUpSource<Resolved>;
  /** The recorded event, or undefined for what is not delivered (system events). */
  toEvent: (resolved: Resolved) => RecordedEvent<Event> | undefined;
  cursorOf: (event: RecordedEvent<Event>) => Cursor;
  isAfter: (event: RecordedEvent<Event>, cursor: Cursor) => boolean;
  isTransient: (error: unknown) => boolean;
  onClose?: () => void;
};

/** The server ended a subscription without an error; it never should, so subscribe again. */
class SubscriptionEnded extends Error {
  constructor() {
    super('EventStoreDB ended the subscription');
    this.name = 'SubscriptionEnded';
  }
}

/**
 * An EventStoreDB catch-up subscription behind the port's EventSubscription. The server does catch-up
 * and live in one subscription, with no seam. This adds what the port promises on top: when the
 * subscription fails with a transient error (connection lost, server restart, leader change), it
 * subscribes again after the last event handed over, with exponential backoff, so nothing is lost or
 * repeated (events at or before the cursor are dropped, whatever the server resends). It is pull-based:
 * the client's stream is read only when the consumer asks for the next event, and its buffer is bounded
 * by the stream's highWaterMark; past it, gRPC flow control holds the server back.
 */
export const resubscribingSubscription = <Event extends NewEvent, Cursor, Resolved>(
  options: ResubscribingOptions<Event, Cursor, Resolved>,
): EventSubscription<Event> => {
  const abort = new AbortController();
  const policy = retry(
    handleWhen((error) => error instanceof SubscriptionEnded || options.isTransient(error)),
    {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      backoff: new ExponentialBackoff({ initialDelay: 50, maxDelay: 2_000 }),
    },
  );
  let cursor = options.start;
  let current: { source: CatchUpSource<Resolved>; iterator: AsyncIterator<Resolved> } | undefined;
  let iterated = false;

  const drop = async () => {
    const dropped = current;
    current = undefined;
    if (!dropped) return;
    dropped.source.destroy();
    await dropped.source.unsubscribe().catch(() => undefined);
  };

  /** The next event after the cursor, from the open subscription or a new one. */
  const pull = async (): Promise<RecordedEvent<Event>> => {
    for (;;) {
      abort.signal.throwIfAborted();
      if (!current) {
        const source = options.open(cursor);
        current = { source, iterator: source[Symbol.asyncIterator]() };
      }
      let step: IteratorResult<Resolved>;
      try {
        step = await current.iterator.next();
        if (step.done) throw new SubscriptionEnded();
      } catch (error) {
        await drop();
        throw error;
      }
      const event = options.toEvent(step.value);
      if (event && options.isAfter(event, cursor)) return event;
    }
  };

  async function* events(): AsyncGenerator<RecordedEvent<Event>> {
    try {
      while (!abort.signal.aborted) {
        let event: RecordedEvent<Event>;
        try {
          event = await policy.execute(pull, abort.signal);
        } catch (error) {
          if (abort.signal.aborted) return;
          throw error;
        }
        cursor = options.cursorOf(event);
        yield event;
      }
    } finally {
      await subscription.close();
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
    async close() {
      if (!abort.signal.aborted) {
        abort.abort();
        options.onClose?.();
      }
      await drop();
    },
  };
  return subscription;
};
