import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { encodePosition } from '@kiln/contracts/position';
import type { KilnEvent } from '@kiln/contracts/events';
import { resubscribingSubscription, type CatchUpSource } from '#src/esdb/subscription.ts';
import { isTransientEsdbError } from '#src/esdb/transientErrors.ts';
import type { RecordedEvent } from '#src/port.ts';
import { collect } from '#src/testing/collect.ts';
import { progressed } from '#src/testing/events.ts';

/** What a fake subscription does once it has handed over its events. */
type Ending = 'hang' | 'end' | Error;

/**
 * A stand-in for the client's catch-up subscription: a Readable that produces `revisions` one read at a
 * time (so reads can be counted), then hangs (live, nothing new), ends, or fails.
 */
const fakeSource = (
  revisions: number[],
  ending: Ending,
  produced: { count: number },
): CatchUpSource<number> => {
  const queue = [...revisions];
  const source = new Readable({
    objectMode: true,
    highWaterMark: 4,
    read() {
      const next = queue.shift();
      if (next !== undefined) {
        produced.count += 1;
        this.push(next);
      } else if (ending === 'end') this.push(null);
      else if (ending instanceof Error) this.destroy(ending);
    },
  });
  return Object.assign(source, { unsubscribe: () => Promise.resolve() });
};

const event = (revision: number): RecordedEvent<KilnEvent> => ({
  ...progressed('fake', 0),
  streamId: 'job-fake',
  revision,
  position: encodePosition(BigInt(revision), BigInt(revision)),
  recordedAt: new Date(0).toISOString(),
});

const unavailable = () => Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14 });

/** A subscription over fake sources: `script` says what the n-th subscription (from a cursor) does. */
const subscribe = (
  script: (cursor: number, attempt: number) => { revisions: number[]; ending: Ending },
  start = -1,
) => {
  const opens: number[] = [];
  const produced = { count: 0 };
  const subscription = resubscribingSubscription<KilnEvent, number, number>({
    start,
    open: (cursor) => {
      opens.push(cursor);
      const { revisions, ending } = script(cursor, opens.length);
      return fakeSource(revisions, ending, produced);
    },
    toEvent: (revision) => (revision % 100 === 99 ? undefined : event(revision)),
    cursorOf: (recorded) => recorded.revision,
    isAfter: (recorded, cursor) => recorded.revision > cursor,
    isTransient: isTransientEsdbError,
  });
  return { subscription, opens, produced };
};

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('resubscribing subscription', () => {
  it('subscribes again after a transient error, from the last event handed over, with no loss or repeat', async () => {
    // Each subscription resends the event at its cursor (as an inclusive read would) and fails after three.
    const { subscription, opens } = subscribe((cursor, attempt) =>
      attempt < 3
        ? { revisions: range(Math.max(cursor, 0), cursor + 3), ending: unavailable() }
        : { revisions: range(cursor, 9), ending: 'hang' },
    );
    const seen = await collect(subscription, (events) => events.length >= 10, 5_000).done;
    expect(seen.map((recorded) => recorded.revision)).toEqual(range(0, 9));
    expect(opens).toEqual([-1, 2, 5]);
  });

  it('subscribes again when the server ends a subscription, and leaves out what toEvent drops', async () => {
    const { subscription, opens } = subscribe((cursor, attempt) =>
      attempt === 1
        ? { revisions: [0, 99, 1], ending: 'end' }
        : { revisions: range(cursor + 1, 3), ending: 'hang' },
    );
    const seen = await collect(subscription, (events) => events.length >= 4, 5_000).done;
    expect(seen.map((recorded) => recorded.revision)).toEqual([0, 1, 2, 3]);
    expect(opens).toEqual([-1, 1]);
  });

  it('hands a non-transient error to the consumer', async () => {
    const { subscription, opens } = subscribe(() => ({ revisions: [0], ending: new Error('access denied') }));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const recorded of subscription) seen.push(recorded.revision);
      })(),
    ).rejects.toThrow('access denied');
    expect(seen).toEqual([0]);
    expect(opens).toEqual([-1]);
  });

  it('ends a consumer waiting for live events when it is closed', async () => {
    const { subscription } = subscribe(() => ({ revisions: [], ending: 'hang' }));
    const consumed = (async () => {
      const seen: number[] = [];
      for await (const recorded of subscription) seen.push(recorded.revision);
      return seen;
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await subscription.close();
    await expect(consumed).resolves.toEqual([]);
  });

  it('reads no further than the consumer takes, give or take the stream buffer', async () => {
    const { subscription, produced } = subscribe(() => ({ revisions: range(0, 9_999), ending: 'hang' }));
    const iterator = subscription[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done ? undefined : first.value.revision).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(produced.count).toBeLessThanOrEqual(8);
    await subscription.close();
  });

  it('delivers the same events as an Observable', async () => {
    const { subscription } = subscribe(() => ({ revisions: range(0, 2), ending: 'hang' }));
    const received = await new Promise<number[]>((resolve, reject) => {
      const revisions: number[] = [];
      const handle = subscription.asObservable().subscribe({
        next: (recorded) => {
          revisions.push(recorded.revision);
          if (revisions.length === 3) {
            handle.unsubscribe();
            resolve(revisions);
          }
        },
        error: reject,
      });
    });
    expect(received).toEqual([0, 1, 2]);
  });
});
