import { encodePosition } from '@kiln/contracts/position';
import type { KilnEvent } from '@kiln/contracts/events';
import type { RecordedEvent } from '@kiln/event-store/port';
import { foldStep } from '#src/projections/foldStep.ts';
import { refKey, type ProjectedDoc, type Projection } from '#src/projections/projection.ts';

let sequence = 0;
/** An event as the store would give it back, one global position after the last one made here. */
export const recorded = (
  type: string,
  data: Record<string, unknown>,
  streamId = 'job-x',
): RecordedEvent<KilnEvent> => {
  sequence += 1;
  return {
    id: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    type,
    data,
    metadata: {
      correlationId: 'unit',
      causationId: null,
      actor: { kind: 'system', id: 'unit' },
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence)).toISOString(),
    },
    streamId,
    revision: sequence,
    position: encodePosition(1n, BigInt(sequence)),
    recordedAt: new Date().toISOString(),
  } as unknown as RecordedEvent<KilnEvent>;
};

/** Folds events the way the engine does, in memory: given these events, then these documents. */
export const fold = (projection: Projection, events: RecordedEvent<KilnEvent>[]) => {
  const docs = new Map<string, ProjectedDoc>();
  const appended: ProjectedDoc[] = [];
  for (const event of events) {
    const step = foldStep(projection, event, (ref) => docs.get(refKey(ref)));
    for (const { ref, doc } of step?.folded ?? []) docs.set(refKey(ref), doc);
    for (const { doc } of step?.appended ?? []) appended.push(doc);
  }
  return { docs: [...docs.values()], appended };
};
