import type { Observable } from 'rxjs';
import type { AnyEvent } from '@kiln/contracts/envelope';
import type { Position } from '@kiln/contracts/position';

/** What an append expects of the stream: anything, that it does not exist yet, or its exact last revision. */
export type ExpectedRevision = 'any' | 'no_stream' | number;

/** An event as the write side hands it over: the envelope of the contracts, not yet stored. */
export type NewEvent = AnyEvent;

/** An event as the store gives it back: the envelope plus where it was stored. */
export type RecordedEvent<Event extends NewEvent = NewEvent> = Event & {
  streamId: string;
  /** 0-based revision in its own stream. */
  revision: number;
  /** Global position in `$all`. */
  position: Position;
  recordedAt: string;
};

export type AppendResult = {
  /** The revision of the stream's last event after the append: pass it as the next expected revision. */
  nextExpectedRevision: number;
  /** The position of the last event of the append. */
  position: Position;
  /** False when every event was already stored by an earlier append with the same ids (a retry). */
  appended: boolean;
};

export type ReadStreamOptions = { fromRevision?: number; maxCount?: number };
/**
 * A recorded event as JSON text (the envelope with `streamId`, `revision`, `position` and `recordedAt`, as
 * `RecordedEvent`), for readers that pass events on without looking into them.
 */
export type EncodedEvent = { position: Position; revision: number; json: string };
/** Which of a stream's events: those after `after` (all without it) and at or before `upTo` (all without). */
export type PositionRange = { after?: Position | undefined; upTo?: Position | undefined };
/** The first and last revisions of a stream's events within a range of positions. */
export type RevisionRange = { first: number; last: number };
export type ReadAllOptions = { after?: Position; maxCount?: number };
export type SubscribeToAllOptions = { after?: Position };
export type SubscribeToStreamOptions = { afterRevision?: number };

/**
 * A live subscription: every event after the starting point, in order, exactly once, first the ones
 * already stored (catch-up), then new ones as they are appended (live), across dropped connections.
 * Consume it as an async iterator (pull: the store reads no further than the consumer has taken, so a
 * slow consumer holds no growing buffer) or as an rxjs Observable. `close()` ends it.
 */
export interface EventSubscription<Event extends NewEvent = NewEvent> extends AsyncIterable<
  RecordedEvent<Event>
> {
  asObservable(): Observable<RecordedEvent<Event>>;
  close(): Promise<void>;
}

export interface EventStore<Event extends NewEvent = NewEvent> {
  /** Appends atomically. Throws WrongExpectedRevision (stale revision), EventRejected (fails its schema). */
  appendToStream(
    streamId: string,
    events: Event[],
    options?: { expectedRevision?: ExpectedRevision },
  ): Promise<AppendResult>;
  /** A stream's events from a revision on, in order; an empty list for a stream that does not exist. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent<Event>[]>;
  /** `readStream`, each event as its JSON text: what a relay sends on costs no parse and no encoding. */
  readStreamEncoded(streamId: string, options?: ReadStreamOptions): Promise<EncodedEvent[]>;
  /**
   * The revisions of a stream's first and last events within a range of global positions, or null when
   * it has none there: how many events a reader will get (`last - first + 1`), and where to page from.
   */
  revisionRange(streamId: string, range: PositionRange): Promise<RevisionRange | null>;
  /** Events of every stream after a position (from the start without one), in global order. */
  readAll(options?: ReadAllOptions): Promise<RecordedEvent<Event>[]>;
  subscribeToAll(options?: SubscribeToAllOptions): EventSubscription<Event>;
  subscribeToStream(streamId: string, options?: SubscribeToStreamOptions): EventSubscription<Event>;
  /** The position of the last event in `$all` a reader can see now, or null when the store is empty. */
  headPosition(): Promise<Position | null>;
  /** How many events of `$all` a reader can see after a position (all of them without one): lag, progress. */
  countAll(options?: { after?: Position }): Promise<number>;
  close(): Promise<void>;
}
