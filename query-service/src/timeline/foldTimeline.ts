import type { KilnEvent } from '@kiln/contracts/events';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import type { RecordedEvent } from '@kiln/event-store/port';
import { foldStep } from '#src/projections/foldStep.ts';
import { refKey, type DocRef, type ProjectedDoc, type Projection } from '#src/projections/projection.ts';
import { MAX_TIMELINE_EVENTS } from '@kiln/contracts/views/timeline';

type Event = RecordedEvent<KilnEvent>;
/** The documents folded so far, by reference: what a state is read from. */
export type Docs = (ref: DocRef) => ProjectedDoc | undefined;
export type Timeline<State> = { entries: Array<{ event: DeliveredEvent; state: State }>; truncated: boolean };

/** An event as clients get it (the same shape the realtime hub delivers). */
const deliveredOf = (event: Event): DeliveredEvent => ({
  id: event.id,
  type: event.type,
  data: event.data,
  metadata: event.metadata,
  streamId: event.streamId,
  revision: event.revision,
  position: event.position,
  recordedAt: event.recordedAt,
});

/** A read-model document as readers see it: without its `_id`. */
export const viewOf = <View>(doc: ProjectedDoc | undefined): View | null => {
  if (!doc) return null;
  const { _id: _ignored, ...view } = doc;
  return view as View;
};

/**
 * Folds events (in global order) through projections with their documents in memory, taking for every
 * event the projectors' own step (foldStep), and answers each `shown` event with the state read from the
 * documents right after it: so the last state is what the read models hold. At most MAX_TIMELINE_EVENTS
 * entries; `truncated` when there were more, or when `cut` (the caller stopped reading early) says so.
 */
export const foldTimeline = <State>(
  events: readonly Event[],
  projections: readonly Projection[],
  options: { shown: (event: Event) => boolean; stateOf: (docs: Docs) => State; cut?: boolean },
): Timeline<State> => {
  const docs = new Map<string, ProjectedDoc>();
  const current: Docs = (ref) => docs.get(refKey(ref));
  const entries: Timeline<State>['entries'] = [];
  for (const event of events) {
    for (const projection of projections) {
      const step = foldStep(projection, event, current);
      for (const { ref, doc } of step?.folded ?? []) docs.set(refKey(ref), doc);
    }
    if (!options.shown(event)) continue;
    if (entries.length === MAX_TIMELINE_EVENTS) return { entries, truncated: true };
    entries.push({ event: deliveredOf(event), state: options.stateOf(current) });
  }
  return { entries, truncated: options.cut ?? false };
};
