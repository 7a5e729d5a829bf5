import { Observable, Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import type { EventStore, EventSubscription, RecordedEvent } from '@kiln/event-store/port';
import { startLiveFeed, type FeedRestart, type LiveFeed } from '#src/feed/liveFeed.ts';

type Event = RecordedEvent<KilnEvent>;

const position = (n: number): Position => `${n.toString(16).padStart(16, '0')}-0000000000000000`;
const event = (n: number) => ({ id: `e${n}`, position: position(n) }) as unknown as Event;

/**
 * The part of an event store the feed uses, in memory: a head the test moves, and subscriptions to `$all`
 * the test feeds, breaks or leaves silent, each remembering where it was asked to start.
 */
const storeStandIn = () => {
  let head: Position | null = position(1);
  const opened: Array<{ after: Position | undefined; events: Subject<Event>; closed: boolean }> = [];
  const store = {
    headPosition: () => Promise.resolve(head),
    subscribeToAll: (options: { after?: Position } = {}) => {
      const entry = { after: options.after, events: new Subject<Event>(), closed: false };
      opened.push(entry);
      return {
        asObservable: () => new Observable<Event>((subscriber) => entry.events.subscribe(subscriber)),
        close: () => {
          entry.closed = true;
          return Promise.resolve();
        },
      } as unknown as EventSubscription<KilnEvent>;
    },
  } as unknown as EventStore<KilnEvent>;
  return {
    store,
    opened,
    latest: () => opened.at(-1)!,
    moveHeadTo: (n: number) => void (head = position(n)),
  };
};

let feed: LiveFeed | undefined;
afterEach(async () => {
  await feed?.close();
  feed = undefined;
  vi.useRealTimers();
});

describe('the live feed', () => {
  it('after an error, subscribes again from the last event it passed on; its watchers never see the error', async () => {
    const stand = storeStandIn();
    const restarts: FeedRestart[] = [];
    feed = await startLiveFeed(stand.store, { onRestart: (reason) => restarts.push(reason) });
    const seen: string[] = [];
    const failures: unknown[] = [];
    feed.events$.subscribe({ next: (e) => seen.push(e.id), error: (error) => failures.push(error) });

    expect(stand.latest().after).toBe(position(1));
    stand.latest().events.next(event(2));
    stand.latest().events.next(event(3));
    stand.latest().events.error(new Error('relation "events" does not exist'));
    await vi.waitFor(() => expect(stand.opened).toHaveLength(2), { timeout: 5_000 });
    expect(stand.opened[0]!.closed).toBe(true);
    expect(stand.latest().after).toBe(position(3));
    stand.latest().events.next(event(4));
    stand.latest().events.complete();
    await vi.waitFor(() => expect(stand.opened).toHaveLength(3), { timeout: 5_000 });
    expect(stand.latest().after).toBe(position(4));
    stand.latest().events.next(event(5));

    expect(seen).toEqual(['e2', 'e3', 'e4', 'e5']);
    expect(failures).toEqual([]);
    expect(restarts).toEqual(['error', 'ended']);
    expect(feed.position()).toBe(position(5));
  });

  it('replaces a subscription that stays behind the head of $all without moving', async () => {
    vi.useFakeTimers();
    const stand = storeStandIn();
    const restarts: FeedRestart[] = [];
    feed = await startLiveFeed(stand.store, { livenessMs: 20, onRestart: (reason) => restarts.push(reason) });
    const seen: string[] = [];
    feed.events$.subscribe((e) => seen.push(e.id));
    stand.latest().events.next(event(2));
    // Appends go on (the head moves) but the subscription says nothing more: it dropped silently.
    stand.moveHeadTo(9);
    await vi.advanceTimersByTimeAsync(20); // one check finds it behind…
    expect(stand.opened).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(21); // …the next finds it behind still, where it was
    expect(restarts).toEqual(['stalled']);
    expect(stand.opened).toHaveLength(2);
    expect(stand.opened[0]!.closed).toBe(true);
    expect(stand.latest().after).toBe(position(2));
    for (let n = 3; n <= 9; n += 1) stand.latest().events.next(event(n));
    expect(seen).toEqual(['e2', 'e3', 'e4', 'e5', 'e6', 'e7', 'e8', 'e9']);
  });

  it('leaves alone a subscription that is at the head, or behind it and moving', async () => {
    vi.useFakeTimers();
    const stand = storeStandIn();
    const restarts: FeedRestart[] = [];
    feed = await startLiveFeed(stand.store, { livenessMs: 20, onRestart: (reason) => restarts.push(reason) });
    for (let n = 2; n <= 12; n += 1) {
      stand.moveHeadTo(n + 1); // one event behind at every check, and moving between them
      stand.latest().events.next(event(n));
      await vi.advanceTimersByTimeAsync(20);
    }
    stand.latest().events.next(event(13));
    await vi.advanceTimersByTimeAsync(100); // five checks at the head
    expect(restarts).toEqual([]);
    expect(stand.opened).toHaveLength(1);
  });
});
