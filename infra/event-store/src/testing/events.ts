import { randomUUID } from 'node:crypto';
import { newEventId } from '@kiln/contracts/event-ids';
import type { KilnEvent } from '@kiln/contracts/events';

const metadata = (correlationId: string): KilnEvent['metadata'] => ({
  correlationId,
  causationId: null,
  actor: { kind: 'system', id: 'event-store-tests' },
  at: new Date().toISOString(),
});

/** A unique id usable in stream ids and entity ids. */
export const uniqueId = (prefix = 't'): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 20)}`;

/** A valid `JobProgressed` event for `job-<jobId>`: the workhorse of the store's tests. */
export const progressed = (jobId: string, progress: number, step = 'rendering'): KilnEvent => ({
  id: newEventId(),
  type: 'JobProgressed',
  data: { jobId, step, progress },
  metadata: metadata(`test-${jobId}`),
});

export const progressedEvents = (jobId: string, count: number): KilnEvent[] =>
  Array.from({ length: count }, (_, index) => progressed(jobId, Math.min(1, index / Math.max(1, count))));
