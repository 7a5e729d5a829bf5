// What a watching client checks about the events it receives: each once, in global order, no revision of
// a stream skipped, and, against the truth, none missing and none extra. Pure, so vitest checks it too.

/** The part of a delivered event the checks need. Positions compare as strings (fixed-width hex). */
export type Seen = { id: string; position: string; streamId: string; revision: number };

export type Verdict = 'ok' | 'duplicate' | 'out_of_order';

/** Follows one subscription's events as they arrive. */
export const createSequence = () => {
  const ids = new Set<string>();
  const received: string[] = [];
  const lastRevision = new Map<string, number>();
  let lastPosition: string | null = null;
  let duplicates = 0;
  let outOfOrder = 0;
  let gaps = 0;
  return {
    add: (event: Seen): Verdict => {
      received.push(event.id);
      if (ids.has(event.id)) {
        duplicates += 1;
        return 'duplicate';
      }
      ids.add(event.id);
      const revision = lastRevision.get(event.streamId);
      if (revision !== undefined && event.revision > revision + 1) gaps += event.revision - revision - 1;
      lastRevision.set(event.streamId, Math.max(revision ?? -1, event.revision));
      if (lastPosition !== null && event.position <= lastPosition) {
        outOfOrder += 1;
        return 'out_of_order';
      }
      lastPosition = event.position;
      return 'ok';
    },
    /** Every id received, in the order received, repeats included. */
    received: (): string[] => received,
    unique: (): number => ids.size,
    duplicates: (): number => duplicates,
    outOfOrder: (): number => outOfOrder,
    /** Revisions skipped inside a stream, between two events of it that did arrive. */
    gaps: (): number => gaps,
    lastPosition: (): string | null => lastPosition,
  };
};

export type Comparison = { missed: number; unexpected: number; duplicated: number; outOfOrder: number };

/** What a client received (ids, in order of arrival) against what it should have received, in order. */
export const compareWithTruth = (received: string[], expected: string[]): Comparison => {
  const expectedIndex = new Map(expected.map((id, index) => [id, index]));
  const firstSeen = [...new Set(received)];
  let outOfOrder = 0;
  let previous = -1;
  for (const id of firstSeen) {
    const index = expectedIndex.get(id);
    if (index === undefined) continue;
    if (index < previous) outOfOrder += 1;
    else previous = index;
  }
  const seen = new Set(received);
  return {
    missed: expected.filter((id) => !seen.has(id)).length,
    unexpected: firstSeen.filter((id) => !expectedIndex.has(id)).length,
    duplicated: received.length - seen.size,
    outOfOrder,
  };
};
