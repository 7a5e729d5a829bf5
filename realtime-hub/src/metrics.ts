import { Counter, Gauge, type Registry } from 'prom-client';

/** The hub's own figures at /metrics, next to the HTTP ones. */
export const createHubMetrics = (registry: Registry) => ({
  connections: new Gauge({
    name: 'kiln_hub_connections',
    help: 'Open Socket.IO connections',
    registers: [registry],
  }),
  streams: new Gauge({
    name: 'kiln_hub_sse_streams',
    help: 'Open Server-Sent Events streams',
    registers: [registry],
  }),
  subscriptions: new Gauge({
    name: 'kiln_hub_subscriptions',
    help: 'Open topic subscriptions over Socket.IO',
    registers: [registry],
  }),
  delivered: new Counter({
    name: 'kiln_hub_events_delivered_total',
    help: 'Events sent to clients',
    registers: [registry],
  }),
  resyncs: new Counter({
    name: 'kiln_hub_resyncs_total',
    help: 'Clients told to resync from their last position and dropped, by reason',
    labelNames: ['reason'],
    registers: [registry],
  }),
  feedRestarts: new Counter({
    name: 'kiln_hub_live_feed_restarts_total',
    help: 'Times the live feed subscribed to $all again from its position, by reason (error, ended, stalled)',
    labelNames: ['reason'],
    registers: [registry],
  }),
});

export type HubMetrics = ReturnType<typeof createHubMetrics>;
