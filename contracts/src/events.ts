import { z } from 'zod';
import { BillingEvent } from '#src/billing/events.ts';
import { JobEvent } from '#src/job/events.ts';
import { ProviderEvent } from '#src/provider/events.ts';
import { SessionEvent } from '#src/session/events.ts';
import { parseStreamId, StreamId, type StreamFamily } from '#src/streams.ts';

/** Every event Kiln stores, whatever its stream. */
export const KilnEvent = z.discriminatedUnion('type', [JobEvent, BillingEvent, ProviderEvent, SessionEvent]);
export type KilnEvent = z.infer<typeof KilnEvent>;
export type KilnEventType = KilnEvent['type'];

const eventSchemaOfFamily = {
  job: JobEvent,
  billing: BillingEvent,
  provider: ProviderEvent,
  session: SessionEvent,
} as const satisfies Record<StreamFamily, z.ZodType>;

export class EventRejected extends Error {
  readonly code = 'event_rejected';
  readonly streamId: string;
  readonly issues: z.core.$ZodIssue[];
  constructor(streamId: string, eventType: unknown, issues: z.core.$ZodIssue[]) {
    super(
      `event ${String(eventType)} does not fit stream ${streamId}: ${z.prettifyError(new z.ZodError(issues))}`,
    );
    this.name = 'EventRejected';
    this.streamId = streamId;
    this.issues = issues;
  }
}

/**
 * Checks an event against the schema of its stream's family: a job event may only go to a `job-…`
 * stream, and must match its type's schema exactly. Throws EventRejected; returns the parsed event.
 */
export const parseEventForStream = (streamId: string, event: unknown): KilnEvent => {
  const eventType = (event as { type?: unknown } | null)?.type;
  const stream = StreamId.safeParse(streamId);
  if (!stream.success) throw new EventRejected(streamId, eventType, stream.error.issues);
  const result = eventSchemaOfFamily[parseStreamId(stream.data).family].safeParse(event);
  if (!result.success) throw new EventRejected(streamId, eventType, result.error.issues);
  return result.data;
};
