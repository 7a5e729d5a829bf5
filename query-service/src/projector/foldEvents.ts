import type { KilnEvent } from '@kiln/contracts/events';
import type { RecordedEvent } from '@kiln/event-store/port';
import { foldStep } from '#src/projections/foldStep.ts';
import type { Projection } from '#src/projections/projection.ts';
import type { DocumentBuffer } from '#src/projector/documentBuffer.ts';

/**
 * Folds a batch of events into the buffer's documents. A document that already carries an event's
 * position (or a later one) has seen it: after a crash between a write and its checkpoint, or when an
 * event is delivered twice, the event changes nothing in it. Returns how many events changed something.
 */
export const foldEvents = async (
  projection: Projection,
  buffer: DocumentBuffer,
  events: readonly RecordedEvent<KilnEvent>[],
): Promise<number> => {
  await buffer.load(events.flatMap((event) => projection.touches(event)));
  let applied = 0;
  for (const event of events) {
    const step = foldStep(projection, event, (ref) => buffer.get(ref));
    if (!step) continue;
    for (const { ref, doc } of step.folded) buffer.set(ref, doc);
    for (const { collection, doc } of step.appended) buffer.append(collection, doc);
    applied += 1;
  }
  return applied;
};
