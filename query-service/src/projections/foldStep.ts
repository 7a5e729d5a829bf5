import type { KilnEvent } from '@kiln/contracts/events';
import type { RecordedEvent } from '@kiln/event-store/port';
import { refKey, type DocRef, type ProjectedDoc, type Projection } from '#src/projections/projection.ts';

/** What one event makes of the documents it touches, each stamped with the event's position. */
export type FoldedStep = {
  folded: Array<{ ref: DocRef; doc: ProjectedDoc }>;
  appended: Array<{ collection: string; doc: ProjectedDoc }>;
};

/**
 * One event folded into the current documents, free of I/O: the step the projectors take for every
 * event (projector/foldEvents.ts) and the timelines take in memory (timeline/). A document that already
 * carries the event's position, or a later one, has seen it and is left as it is; undefined when every
 * document the event touches has seen it.
 */
export const foldStep = (
  projection: Projection,
  event: RecordedEvent<KilnEvent>,
  current: (ref: DocRef) => ProjectedDoc | undefined,
): FoldedStep | undefined => {
  const unseen = new Set(
    projection
      .touches(event)
      .filter((ref) => {
        const position = current(ref)?.position;
        return position === undefined || position < event.position;
      })
      .map(refKey),
  );
  if (unseen.size === 0) return undefined;
  const result = projection.apply(event, current);
  return {
    folded: result.folded
      .filter(({ ref }) => unseen.has(refKey(ref)))
      .map(({ ref, doc }) => ({ ref, doc: { ...doc, position: event.position } })),
    appended: result.appended.map(({ collection, doc }) => ({
      collection,
      doc: { ...doc, position: event.position },
    })),
  };
};
