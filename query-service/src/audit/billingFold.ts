import type { EventBody } from '@kiln/contracts/envelope';
import type { BillingEvent } from '@kiln/contracts/billing/events';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Position } from '@kiln/contracts/position';
import { comparePositions } from '@kiln/contracts/position';
import { billingStreamId } from '@kiln/contracts/streams';
import type { EventStore, RecordedEvent } from '@kiln/event-store/port';
import { evolveBilling, initialBillingState } from '@kiln/command-service/domain/billing';

/** Up to when: a global position, a moment (events recorded at or before it), or now. */
export type AsOf = { position?: Position; at?: string };

const within = (event: RecordedEvent<KilnEvent>, asOf: AsOf) =>
  (asOf.position === undefined || comparePositions(event.position, asOf.position) <= 0) &&
  (asOf.at === undefined || Date.parse(event.recordedAt) <= Date.parse(asOf.at));

/**
 * A fresh fold of an account's billing stream with the write side's own rules: the truth the projection
 * is audited against, now or as of any past position or time.
 */
export const foldBilling = async (store: EventStore<KilnEvent>, accountId: string, asOf: AsOf = {}) => {
  const events = (await store.readStream(billingStreamId(accountId))).filter((event) => within(event, asOf));
  const state = events.reduce(
    (folded, event) => evolveBilling(folded, event as unknown as EventBody<BillingEvent>),
    initialBillingState(),
  );
  return {
    exists: events.length > 0,
    available: state.available,
    reserved: state.reserved,
    position: events.at(-1)?.position ?? null,
  };
};
