import { z } from 'zod';

/** Who caused a fact: a signed-in person, an admin acting on someone's behalf, Kiln itself, or a provider. */
export const Actor = z.strictObject({
  kind: z.enum(['user', 'admin', 'system', 'provider']),
  id: z.string().min(1).max(200),
});
export type Actor = z.infer<typeof Actor>;

/** A correlation id travels from the HTTP request (x-correlation-id) into every event and log line. */
export const CorrelationId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only');
export type CorrelationId = z.infer<typeof CorrelationId>;

export const EventMetadata = z.strictObject({
  correlationId: CorrelationId,
  /** The id of the command or event that caused this one; null for a fact with no cause inside Kiln. */
  causationId: z.string().min(1).max(128).nullable(),
  actor: Actor,
  at: z.iso.datetime({ offset: true }),
});
export type EventMetadata = z.infer<typeof EventMetadata>;

export const EventId = z.uuid();

/**
 * Declares one event: its `type` literal and its `data` shape, wrapped in the envelope every event
 * carries (`id`, `type`, `data`, `metadata`). Unknown fields are refused, so nothing unplanned is stored.
 */
export const defineEvent = <Type extends string, Data extends z.ZodObject>(type: Type, data: Data) =>
  z.strictObject({
    id: EventId,
    type: z.literal(type),
    data,
    metadata: EventMetadata,
  });

/** What every event has in common, whatever its type: what the event store needs to see. */
export const AnyEvent = z.strictObject({
  id: EventId,
  type: z.string().min(1).max(100),
  data: z.record(z.string(), z.unknown()),
  metadata: EventMetadata,
});
export type AnyEvent = z.infer<typeof AnyEvent>;

/** Non-negative whole credits. Credits are never fractional. */
export const Credits = z.int().nonnegative().max(1_000_000_000);
/** Positive whole credits: the amount of a grant, purchase, reservation... */
export const PositiveCredits = z.int().positive().max(1_000_000_000);

export const EntityId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');

/** An event without its envelope: what a decider decides (`type` and `data`); the handler adds id and metadata. */
export type EventBody<Event> = Event extends { type: infer Type; data: infer Data }
  ? { type: Type; data: Data }
  : never;
