import { Observable, type Subscriber } from 'rxjs';
import type { PublicUser } from '@kiln/contracts/accounts/http';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import type { Resumed, Topic } from '@kiln/contracts/realtime';
import { jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import type { ReadModels } from '@kiln/query-service/read-models';
import type { LiveFeed } from '#src/feed/liveFeed.ts';
import { authorize, type ResolvedTopic } from '#src/topics/access.ts';
import { topicEvents, type CatchUp, type StartOf } from '#src/topics/topicEvents.ts';

type Event = RecordedEvent<KilnEvent>;

export type SubscriptionDeps = {
  store: EventStore<KilnEvent>;
  readModels: ReadModels;
  feed: LiveFeed;
  /** Live events of `$all` one subscription may hold while its catch-up goes out (default 10,000). */
  maxHeldEvents?: number;
};

/** Why a subscription ends with a `resync` (subscribe again from your last position), in the client's words. */
export const ResyncReason = {
  tooSlow: 'the client fell too far behind',
  lostLiveStream: 'the hub lost its live stream',
  lostRead: 'the hub could not read the events to catch up on',
} as const;

/** A subscription's live events piled up past its bound while its catch-up went out: resync it. */
export class FellBehind extends Error {
  constructor() {
    super('the client fell too far behind');
    this.name = 'FellBehind';
  }
}

export type OpenedSubscription = {
  topic: ResolvedTopic;
  resumed: Resumed;
  /** For a client without a position: the topic's state from the read models, sent before any event. */
  state?: { position: Position | null; state: Record<string, unknown> };
  /** The events to send first, from the event store, in global order… */
  catchUp: CatchUp;
  /** …then these, the live ones after them (held from before the catch-up was read, so none is missed). */
  live$: Observable<Event>;
  /** Lets go of the live feed when `live$` is never subscribed to. */
  cancel: () => void;
};

/**
 * Holds what a hot stream emits that may be the topic's until someone subscribes, then hands it over and
 * passes the rest through, each event checked by the subscriber's own test. Past `maxHeld` it drops what
 * it holds and fails with FellBehind, rather than hold more. One plain subscriber on the feed, no operator
 * chain: with a thousand subscriptions on an instance, a live event costs each a few comparisons.
 */
const heldUntilSubscribed = (
  source$: Observable<Event>,
  mayMatch: (event: Event) => boolean,
  maxHeld: number,
) => {
  const held: Event[] = [];
  let target: { subscriber: Subscriber<Event>; passes: (event: Event) => boolean } | undefined;
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    held.length = 0;
    failure = { error };
  };
  const holding = source$.subscribe({
    next: (event) => {
      if (!mayMatch(event)) return;
      if (target) {
        if (target.passes(event)) target.subscriber.next(event);
        return;
      }
      if (failure) return;
      if (held.length >= maxHeld) return fail(new FellBehind());
      held.push(event);
    },
    error: (error: unknown) => (target ? target.subscriber.error(error) : fail(error)),
  });
  return {
    /** The held events that pass, then the live ones that pass, in order. */
    release: (passes: (event: Event) => boolean) =>
      new Observable<Event>((subscriber) => {
        for (const event of held.splice(0)) if (passes(event)) subscriber.next(event);
        if (failure) subscriber.error(failure.error);
        else target = { subscriber, passes };
        return () => holding.unsubscribe();
      }),
    cancel: () => holding.unsubscribe(),
  };
};

const withoutId = <Doc extends { _id: unknown }>({ _id: _ignored, ...rest }: Doc) => rest;

/** The current state of a topic from the read models, and which events it already includes. */
const snapshotOf = async (readModels: ReadModels, topic: ResolvedTopic) => {
  switch (topic.kind) {
    case 'job': {
      const job = await (await readModels.collection('jobs')).findOne({ _id: topic.jobId });
      const position = job?.position ?? null;
      return { state: { job: job ? withoutId(job) : null }, position, startOf: () => position };
    }
    case 'account': {
      const balance = await (await readModels.collection('balances')).findOne({ _id: topic.accountId });
      const position = balance?.position ?? null;
      return { state: { balance: balance ? withoutId(balance) : null }, position, startOf: () => position };
    }
    case 'session': {
      const session = await (await readModels.collection('sessions')).findOne({ _id: topic.sessionId });
      const members = await (
        await readModels.collection('session_members')
      )
        .find({ sessionId: topic.sessionId, active: true })
        .sort({ joinedAt: 1 })
        .toArray();
      const jobs = session
        ? await (await readModels.collection('jobs')).find({ _id: { $in: session.jobIds } }).toArray()
        : [];
      // Each document says up to where it has folded its own stream; the rest is replayed after it.
      const foldedUpTo = new Map<string, Position>(jobs.map((job) => [jobStreamId(job.jobId), job.position]));
      if (session) foldedUpTo.set(sessionStreamId(topic.sessionId), session.position);
      return {
        state: {
          session: session ? withoutId(session) : null,
          members: members.map(({ userId, displayName, joinedAt }) => ({ userId, displayName, joinedAt })),
          jobs: jobs.map(withoutId),
        },
        position: session?.position ?? null,
        startOf: (streamId: string) => foldedUpTo.get(streamId) ?? null,
      };
    }
  }
};

/**
 * Opens one client's subscription. The live feed is tapped first and held; then the head of `$all` is
 * read, and the topic's events up to it come from the event store (after the client's position, or after
 * what the state snapshot already includes); then the held and later live events after the head follow.
 * Whatever was appended meanwhile is in one of the two, never both, never neither.
 */
export const openSubscription = async (
  deps: SubscriptionDeps,
  user: PublicUser,
  request: { topic: Topic; after?: Position | undefined },
): Promise<OpenedSubscription> => {
  const topic = await authorize(deps, user, request.topic);
  const events = topicEvents(deps.store, topic);
  const live = heldUntilSubscribed(
    deps.feed.events$,
    (event) => events.mayMatch(event),
    deps.maxHeldEvents ?? 10_000,
  );
  try {
    const head = await deps.store.headPosition();
    let catchUp: CatchUp;
    let resumed: Resumed;
    let state: OpenedSubscription['state'];
    // What the state already includes: the read models may have folded events past the head meanwhile.
    let startOf: StartOf = () => null;
    if (request.after !== undefined) {
      const after = request.after;
      catchUp = await events.catchUp(() => after, head);
      resumed = { mode: 'replay', after, events: catchUp.count };
    } else {
      const snapshot = await snapshotOf(deps.readModels, topic);
      startOf = snapshot.startOf;
      catchUp = await events.catchUp(startOf, head);
      state = { position: snapshot.position, state: snapshot.state };
      resumed = { mode: 'snapshot', position: snapshot.position, events: catchUp.count };
    }
    const inState = (event: Event) => {
      const start = startOf(event.streamId);
      return start !== null && event.position <= start;
    };
    const matches = events.liveMatcher();
    // In this order: the matcher follows the session's new jobs from the events after the head.
    const liveAfterHead = live.release(
      (event) => (head === null || event.position > head) && !inState(event) && matches(event),
    );
    return {
      topic,
      resumed,
      ...(state ? { state } : {}),
      catchUp,
      live$: liveAfterHead,
      cancel: live.cancel,
    };
  } catch (error) {
    live.cancel();
    throw error;
  }
};
