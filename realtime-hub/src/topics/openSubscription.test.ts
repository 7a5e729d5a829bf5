import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { PublicUser } from '@kiln/contracts/accounts/http';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import type { ReadModels } from '@kiln/query-service/read-models';
import { FellBehind, openSubscription } from '#src/topics/openSubscription.ts';

type Event = RecordedEvent<KilnEvent>;

const position = (n: number) => `${n.toString(16).padStart(16, '0')}-0000000000000000`;
const owner = { id: 'u_1', role: 'user', accountId: 'a_1' } as PublicUser;

const jobEvent = (n: number, type: 'JobRequested' | 'JobProgressed'): Event =>
  ({
    id: `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`,
    type,
    data: type === 'JobRequested' ? { jobId: 'j_1', userId: owner.id } : { jobId: 'j_1', step: `step ${n}` },
    metadata: { correlationId: 'c', causationId: null, actor: { kind: 'user', id: owner.id }, at: '' },
    streamId: jobStreamId('j_1'),
    revision: n - 1,
    position: position(n),
    recordedAt: '',
  }) as unknown as Event;

/** A store of one stream's events (revision = index), whose head is `head`, and the reads it was asked for. */
const storeOf = (stored: Event[], head: string) => {
  const reads: { fromRevision: number; maxCount: number }[] = [];
  const store = {
    headPosition: () => Promise.resolve(head),
    revisionRange: (_streamId: string, range: { after?: string; upTo?: string }) => {
      const within = stored.filter(
        (event) =>
          (range.after === undefined || event.position > range.after) &&
          (range.upTo === undefined || event.position <= range.upTo),
      );
      const [first, last] = [within.at(0), within.at(-1)];
      return Promise.resolve(first && last ? { first: first.revision, last: last.revision } : null);
    },
    readStream: (_streamId: string, options: { fromRevision?: number; maxCount?: number } = {}) => {
      const fromRevision = options.fromRevision ?? 0;
      return Promise.resolve(stored.slice(fromRevision, fromRevision + (options.maxCount ?? stored.length)));
    },
    /** The catch-up's reads: recorded. */
    readStreamEncoded: (_streamId: string, options: { fromRevision?: number; maxCount?: number } = {}) => {
      const fromRevision = options.fromRevision ?? 0;
      const maxCount = options.maxCount ?? stored.length;
      reads.push({ fromRevision, maxCount });
      return Promise.resolve(
        stored
          .slice(fromRevision, fromRevision + maxCount)
          .map(({ position, revision, ...rest }) => ({ position, revision, json: JSON.stringify(rest) })),
      );
    },
  } as unknown as EventStore<KilnEvent>;
  return Object.assign(store, { reads });
};

const positionsOf = async (
  batches: AsyncIterable<{ position: string }[]> | Iterable<{ position: string }[]>,
) => {
  const positions: string[][] = [];
  for await (const batch of batches) positions.push(batch.map((event) => event.position));
  return positions;
};

/**
 * The moment the seam is about: the head of `$all` is read at event 2, then event 3 is appended and the
 * projector folds it before the job's read model is read, so the state includes event 3 while the live
 * feed still delivers it after the head.
 */
const raceAtTheSeam = () => {
  const stored = [jobEvent(1, 'JobRequested'), jobEvent(2, 'JobProgressed'), jobEvent(3, 'JobProgressed')];
  const store = storeOf(stored, position(2));
  const readModels = {
    collection: () =>
      Promise.resolve({
        findOne: () => Promise.resolve({ _id: 'j_1', jobId: 'j_1', position: position(3) }),
      }),
  } as unknown as ReadModels;
  const live = new Subject<Event>();
  const feed = { events$: live, position: () => position(2), close: () => Promise.resolve() };
  return { deps: { store, readModels, feed }, live, stored };
};

describe('openSubscription', () => {
  it('without a position, never sends again a live event the state already includes', async () => {
    const { deps, live, stored } = raceAtTheSeam();
    const opened = await openSubscription(deps, owner, { topic: { kind: 'job', jobId: 'j_1' } });
    const delivered: string[] = [];
    const watching = opened.live$.subscribe((event) => delivered.push(event.position));
    live.next(stored[2]!);
    live.next(jobEvent(4, 'JobProgressed'));
    watching.unsubscribe();

    expect(opened.state?.position).toBe(position(3));
    expect(opened.catchUp.count).toBe(0);
    expect(await positionsOf(opened.catchUp.batches)).toEqual([]);
    expect(delivered).toEqual([position(4)]);
    expect(opened.resumed).toEqual({ mode: 'snapshot', position: position(3), events: 0 });
  });

  it('with a position, replays what came after it up to the head, then live after the head', async () => {
    const { deps, live, stored } = raceAtTheSeam();
    const opened = await openSubscription(deps, owner, {
      topic: { kind: 'job', jobId: 'j_1' },
      after: position(1),
    });
    const delivered: string[] = [];
    const watching = opened.live$.subscribe((event) => delivered.push(event.position));
    live.next(stored[1]!); // at the head: already in the catch-up
    live.next(stored[2]!);
    watching.unsubscribe();

    expect(await positionsOf(opened.catchUp.batches)).toEqual([[position(2)]]);
    expect(delivered).toEqual([position(3)]);
    expect(opened.resumed).toEqual({ mode: 'replay', after: position(1), events: 1 });
  });

  it('holds a bounded number of live events while it catches up, then fails with FellBehind', async () => {
    const { deps, live } = raceAtTheSeam();
    const opened = await openSubscription({ ...deps, maxHeldEvents: 3 }, owner, {
      topic: { kind: 'job', jobId: 'j_1' },
      after: position(1),
    });
    // The catch-up is still going out; four live events arrive for the job, one more than it may hold.
    for (let n = 4; n <= 7; n += 1) live.next(jobEvent(n, 'JobProgressed'));
    const delivered: string[] = [];
    const failures: unknown[] = [];
    opened.live$.subscribe({
      next: (event) => delivered.push(event.position),
      error: (error: unknown) => failures.push(error),
    });

    expect(delivered).toEqual([]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(FellBehind);
    expect(live.observed).toBe(false);
  });

  it('holds only what could be the topic’s while it catches up', async () => {
    const { deps, live } = raceAtTheSeam();
    const opened = await openSubscription({ ...deps, maxHeldEvents: 3 }, owner, {
      topic: { kind: 'job', jobId: 'j_1' },
      after: position(1),
    });
    const otherJob = (n: number): Event => ({
      ...jobEvent(n, 'JobProgressed'),
      streamId: jobStreamId('j_2'),
    });
    for (let n = 4; n <= 9; n += 1) live.next(otherJob(n));
    live.next(jobEvent(10, 'JobProgressed'));
    const delivered: string[] = [];
    const failures: unknown[] = [];
    const watching = opened.live$.subscribe({
      next: (event) => delivered.push(event.position),
      error: (error: unknown) => failures.push(error),
    });
    watching.unsubscribe();

    expect(failures).toEqual([]);
    expect(delivered).toEqual([position(10)]);
  });

  it('counts a long catch-up first, then reads it a batch at a time, in order', async () => {
    const stored = Array.from({ length: 1_203 }, (_, index) =>
      jobEvent(index + 1, index === 0 ? 'JobRequested' : 'JobProgressed'),
    );
    const store = storeOf(stored, position(1_203));
    const feed = {
      events$: new Subject<Event>(),
      position: () => position(1_203),
      close: () => Promise.resolve(),
    };
    const opened = await openSubscription({ store, readModels: {} as ReadModels, feed }, owner, {
      topic: { kind: 'job', jobId: 'j_1' },
      after: position(3),
    });

    expect(opened.resumed).toEqual({ mode: 'replay', after: position(3), events: 1_200 });
    // Nothing of the catch-up is read before its first batch is taken.
    const opening = store.reads.length;
    expect(opening).toBe(0);
    const batches = await positionsOf(opened.catchUp.batches);
    expect(batches.map((batch) => batch.length)).toEqual([500, 500, 200]);
    expect(batches.flat()).toEqual(stored.slice(3).map((event) => event.position));
    expect(store.reads.slice(opening)).toEqual([
      { fromRevision: 3, maxCount: 500 },
      { fromRevision: 503, maxCount: 500 },
      { fromRevision: 1_003, maxCount: 200 },
    ]);
    opened.cancel();
  });
});
