import type { IndexDescription } from 'mongodb';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import type { RecordedEvent } from '@kiln/event-store/port';

/** A read-model document as a projection makes it. */
export type DocBody = { _id: string } & Record<string, unknown>;
/** …and as it is stored: with the position of the last event folded into it. */
export type ProjectedDoc = DocBody & { position: Position };

/** Where a folded document lives: a logical collection (see collectionsOf) and the document's id. */
export type DocRef = { collection: string; id: string };

export const refKey = (ref: DocRef): string => `${ref.collection}\u0000${ref.id}`;

/**
 * `folded` documents are read, changed and written back (a job, a balance); `appended` ones are written
 * once and never change (a ledger entry, an artifact), so they are only ever inserted.
 */
export type CollectionSpec = { kind: 'folded' | 'appended'; indexes: IndexDescription[] };

export type Applied = {
  /** New versions of folded documents. The engine stamps every document with the event's position. */
  folded: Array<{ ref: DocRef; doc: DocBody }>;
  /** Documents written once, keyed so that writing one twice is harmless. */
  appended: Array<{ collection: string; doc: DocBody }>;
};

/**
 * Write order, which keeps a crash between two writes harmless: appended documents first, then folded
 * ones in the order `collections` declares them. A document whose earlier state others are computed from
 * (a balance, for its ledger entries; a membership, for the session's member count) comes last, so a
 * replay that finds it not yet written computes the others from the right state again.
 *
 * A projection folds events of `$all` into read-model documents, free of I/O: it names the folded
 * documents an event touches, and given their current versions says what they become. The engine
 * (projector/) loads, skips what a document has already seen, writes, and checkpoints.
 */
export type Projection = {
  name: string;
  collections: Record<string, CollectionSpec>;
  touches(event: RecordedEvent<KilnEvent>): DocRef[];
  apply(event: RecordedEvent<KilnEvent>, current: (ref: DocRef) => ProjectedDoc | undefined): Applied;
};

export const nothing: Applied = { folded: [], appended: [] };
