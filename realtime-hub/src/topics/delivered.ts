import type { KilnEvent } from '@kiln/contracts/events';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import type { EncodedEvent, RecordedEvent } from '@kiln/event-store/port';

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

/** A catch-up batch as the JSON text of its `events` message (`EventsMessage`), the events relayed as stored. */
export const eventsMessageText = (channel: string, batch: readonly EncodedEvent[]): string =>
  `{"channel":${JSON.stringify(channel)},"events":[${batch.map((event) => event.json).join(',')}]}`;
