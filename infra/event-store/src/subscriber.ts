import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import type { KilnEvent } from '@kiln/contracts/events';
import { comparePositions, type Position } from '@kiln/contracts/position';
import type { EventStore, RecordedEvent } from '#src/port.ts';

/** Where a subscriber keeps its place: any storage (PostgreSQL for process managers, MongoDB for projections). */
export type Checkpoints = {
  load(name: string): Promise<Position | undefined>;
  save(name: string, position: Position): Promise<void>;
};

/** The little of a logger this needs (pino fits). */
export type SubscriberLogger = {
  child(bindings: Record<string, unknown>): SubscriberLogger;
  warn(object: unknown, message: string): void;
  error(object: unknown, message: string): void;
};

export type SubscriberOptions = {
  name: string;
  store: EventStore<KilnEvent>;
  checkpoints: Checkpoints;
  logger: SubscriberLogger;
  interestedIn: (event: RecordedEvent<KilnEvent>) => boolean;
  /** Must be idempotent: after a crash, the events after the checkpoint are handled again. */
  handle: (event: RecordedEvent<KilnEvent>) => Promise<void>;
  /** How many uninteresting events may pass before the checkpoint is saved anyway. */
  saveEvery?: number;
  /**
   * How many handled events may pass before the checkpoint is saved (default 1: after each). More saves
   * less, and after a crash hands the handler up to that many events again: handlers are idempotent.
   */
  saveEveryHandled?: number;
};

export type Subscriber = {
  /** The position of the last event fully handled (or passed over). */
  position(): Position | undefined;
  /** Resolves once every event up to `position` is handled. */
  reached(position: Position, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A checkpointed subscriber's loop (process managers, the media processor, projectors): from its checkpoint, every event of `$all` in order, handled and then
 * checkpointed. A handler that fails is retried with backoff (the loop waits rather than skipping a
 * billing effect); a subscription that breaks is opened again from the checkpoint.
 */
export const startSubscriber = (options: SubscriberOptions): Subscriber => {
  const saveEvery = options.saveEvery ?? 200;
  const saveEveryHandled = options.saveEveryHandled ?? 1;
  const log = options.logger.child({ processManager: options.name });
  const handlePolicy = retry(handleAll, {
    maxAttempts: Number.MAX_SAFE_INTEGER,
    backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 30_000 }),
  });
  handlePolicy.onRetry(({ delay, ...outcome }) =>
    log.warn({ err: 'error' in outcome ? outcome.error : undefined, delay }, 'handler failed; trying again'),
  );
  const abort = new AbortController();
  let current: Position | undefined;
  let waiters: Array<{ position: Position; resolve: () => void }> = [];
  let subscription: ReturnType<EventStore<KilnEvent>['subscribeToAll']> | undefined;

  const advance = (position: Position) => {
    current = position;
    const ready = waiters.filter((waiter) => comparePositions(waiter.position, position) <= 0);
    waiters = waiters.filter((waiter) => comparePositions(waiter.position, position) > 0);
    for (const waiter of ready) waiter.resolve();
  };

  const loop = async () => {
    while (!abort.signal.aborted) {
      try {
        const from = await options.checkpoints.load(options.name);
        if (from && !current) advance(from);
        subscription = options.store.subscribeToAll(from ? { after: from } : {});
        let unsaved = 0;
        let unsavedHandled = 0;
        for await (const event of subscription) {
          const interesting = options.interestedIn(event);
          if (interesting) await handlePolicy.execute(() => options.handle(event), abort.signal);
          if (interesting ? ++unsavedHandled >= saveEveryHandled : ++unsaved >= saveEvery) {
            await options.checkpoints.save(options.name, event.position);
            unsaved = 0;
            unsavedHandled = 0;
          }
          advance(event.position);
        }
      } catch (error) {
        if (abort.signal.aborted) return;
        log.error({ err: error }, 'subscription broke; resuming from the checkpoint');
        await sleep(500);
      }
    }
  };
  const running = loop();

  return {
    position: () => current,
    reached: (position, timeoutMs = 30_000) =>
      current && comparePositions(current, position) >= 0
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`${options.name} did not reach ${position} in time`)),
              timeoutMs,
            );
            waiters.push({
              position,
              resolve: () => {
                clearTimeout(timer);
                resolve();
              },
            });
          }),
    stop: async () => {
      abort.abort();
      await subscription?.close();
      await running;
    },
  };
};
