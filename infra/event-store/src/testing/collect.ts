import type { EventSubscription, NewEvent, RecordedEvent } from '#src/port.ts';

/**
 * Takes events from a subscription into an array until `until` says stop (or the time runs out), in
 * the background, so a test can append meanwhile.
 */
export const collect = <Event extends NewEvent>(
  subscription: EventSubscription<Event>,
  until: (seen: RecordedEvent<Event>[]) => boolean,
  timeoutMs = 20_000,
): { seen: RecordedEvent<Event>[]; done: Promise<RecordedEvent<Event>[]> } => {
  const seen: RecordedEvent<Event>[] = [];
  const done = (async () => {
    const timer = setTimeout(() => void subscription.close(), timeoutMs);
    try {
      for await (const event of subscription) {
        seen.push(event);
        if (until(seen)) break;
      }
    } finally {
      clearTimeout(timer);
      await subscription.close();
    }
    return seen;
  })();
  return { seen, done };
};
