import type { Db } from 'mongodb';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { KilnEvent } from '@kiln/contracts/events';
import type { EventStore } from '@kiln/event-store/port';
import { projections } from '#src/projections/all.ts';
import { projectionLag } from '#src/projector/projectors.ts';
import { loadStates } from '#src/readModels/projectionState.ts';

/** The projectors' figures at /metrics: where each one is, how far behind, and how its batches go. */
export const createProjectorMetrics = (registry: Registry, store: EventStore<KilnEvent>, db: Db) => ({
  eventsBehind: new Gauge({
    name: 'kiln_projector_events_behind',
    help: 'Events of $all after the projector checkpoint (its lag behind the head)',
    labelNames: ['projector'],
    registers: [registry],
    async collect() {
      for (const lag of await projectionLag(store, db))
        this.set({ projector: lag.projector }, lag.eventsBehind);
    },
  }),
  position: new Gauge({
    name: 'kiln_projector_position_info',
    help: 'The projector checkpoint: the global position of $all it has folded up to (label; none before the first)',
    labelNames: ['projector', 'position'],
    registers: [registry],
    async collect() {
      const states = await loadStates(db);
      this.reset();
      for (const { name } of projections) {
        const position = states.find((state) => state._id === name)?.position ?? 'none';
        this.set({ projector: name, position }, 1);
      }
    },
  }),
  events: new Counter({
    name: 'kiln_projector_events_total',
    help: 'Events of $all read by the projector',
    labelNames: ['projector'],
    registers: [registry],
  }),
  batchSeconds: new Histogram({
    name: 'kiln_projector_batch_seconds',
    help: 'Time to fold and write one batch',
    labelNames: ['projector'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  }),
});
