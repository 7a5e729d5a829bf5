import type { KilnEvent } from '@kiln/contracts/events';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';

/** Reads a stream until it holds what `until` looks for (or the time runs out, with what it did hold). */
export const waitForStream = async (
  store: EventStore<KilnEvent>,
  streamId: string,
  until: (events: RecordedEvent<KilnEvent>[]) => boolean,
  timeoutMs = 20_000,
): Promise<RecordedEvent<KilnEvent>[]> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await store.readStream(streamId);
    if (until(events)) return events;
    if (Date.now() > deadline) {
      throw new Error(
        `${streamId} did not get there in ${timeoutMs} ms; it holds ${events.map((e) => e.type).join(', ')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

export const typesOf = (events: { type: string }[]) => events.map((event) => event.type);
export const has = (type: string) => (events: { type: string }[]) =>
  events.some((event) => event.type === type);
