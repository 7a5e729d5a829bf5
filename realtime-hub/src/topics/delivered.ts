import type { KilnEvent } from '@kiln/contracts/events';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import type { RecordedEvent } from '@kiln/event-store/port';

/** An event as clients get it: the envelope and where it is, nothing the store keeps besides. */
export const toDelivered = (event: RecordedEvent<KilnEvent>): DeliveredEvent => ({
  id: event.id,
  type: event.type,
  data: event.data,
  metadata: event.metadata,
  streamId: event.streamId,
  revision: event.revision,
  position: event.position,
  recordedAt: event.recordedAt,
});
