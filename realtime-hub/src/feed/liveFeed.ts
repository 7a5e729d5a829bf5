import { Subject, type Observable, type Subscription } from 'rxjs';
import type { KilnEvent } from '@kiln/contracts/events';
import { comparePositions, type Position } from '@kiln/contracts/position';
import type { EventStore, EventSubscription, RecordedEvent } from '@kiln/event-store/port';

export type LiveFeed = {
  /** Every event of `$all` appended after the feed started, in order, once (a hot stream that never fails). */
  events$: Observable<RecordedEvent<KilnEvent>>;
  position(): Position | null;
  close(): Promise<void>;
};

/** Why the feed opened its subscription to `$all` again. */
export type FeedRestart = 'error' | 'ended' | 'stalled';

export type LiveFeedOptions = {
  /** How often the feed compares its position with the head of `$all` (default 10 s). */
  livenessMs?: number;
  /** Told each time the feed subscribes again from its position, and why. */
  onRestart?: (reason: FeedRestart, error?: unknown) => void;
};

type Attempt = { subscription: EventSubscription<KilnEvent>; piping?: Subscription; over: boolean };

const backoffMs = (failures: number) => Math.min(50 * 2 ** failures, 5_000);

/**
 * One subscription to `$all` per hub instance, shared by every client's live stream. It looks after
 * itself: after any error (or an end) it subscribes again from the last position it passed on, with
 * backoff; and every `livenessMs` it compares that position with the head of `$all`, so a subscription
 * that stays behind the head without moving (dropped silently) is replaced the same way. Clients see one
 * stream with no gap and no repeat: the new subscription starts right after the last event handed over.
 */
export const startLiveFeed = async (
  store: EventStore<KilnEvent>,
  options: LiveFeedOptions = {},
): Promise<LiveFeed> => {
  let position = await store.headPosition();
  const subject = new Subject<RecordedEvent<KilnEvent>>();
  let current: Attempt | undefined;
  let closed = false;
  let failures = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;
  /** The position the last liveness check found behind the head, if it did. */
  let behindAt: Position | null | undefined;

  const openAgain = (reason: FeedRestart, error?: unknown) => {
    behindAt = undefined;
    options.onRestart?.(reason, error);
    failures += 1;
    retry = setTimeout(open, reason === 'stalled' ? 0 : backoffMs(failures));
  };

  const restart = (attempt: Attempt, reason: FeedRestart, error?: unknown) => {
    if (attempt.over || closed) return;
    attempt.over = true;
    attempt.piping?.unsubscribe();
    void attempt.subscription.close();
    current = undefined;
    openAgain(reason, error);
  };

  function open() {
    if (closed) return;
    let subscription: EventSubscription<KilnEvent>;
    try {
      subscription = store.subscribeToAll(position ? { after: position } : {});
    } catch (error) {
      return openAgain('error', error);
    }
    const attempt: Attempt = { subscription, over: false };
    current = attempt;
    attempt.piping = subscription.asObservable().subscribe({
      next: (event) => {
        if (attempt.over) return;
        failures = 0;
        position = event.position;
        subject.next(event);
      },
      error: (error: unknown) => restart(attempt, 'error', error),
      complete: () => restart(attempt, 'ended'),
    });
    if (attempt.over) attempt.piping.unsubscribe();
  }

  let checking = false;
  const checkLiveness = async () => {
    if (checking || closed) return;
    checking = true;
    try {
      const head = await store.headPosition();
      const attempt = current;
      const behind = head !== null && (position === null || comparePositions(head, position) > 0);
      if (!behind || !attempt) behindAt = undefined;
      else if (behindAt === position) restart(attempt, 'stalled');
      else behindAt = position;
    } catch {
      // The head could not be read: nothing to compare with; the next check tries again.
    } finally {
      checking = false;
    }
  };
  const liveness = setInterval(() => void checkLiveness(), options.livenessMs ?? 10_000);

  open();
  return {
    events$: subject.asObservable(),
    position: () => position,
    close: async () => {
      closed = true;
      clearInterval(liveness);
      clearTimeout(retry);
      const attempt = current;
      current = undefined;
      if (attempt) {
        attempt.over = true;
        attempt.piping?.unsubscribe();
        await attempt.subscription.close();
      }
      subject.complete();
    },
  };
};
