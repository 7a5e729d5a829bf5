import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The media processor's own figures, next to the HTTP ones: queue depth, jobs in flight, processed, failed,
 * and the time each job took, by its outcome.
 */
export const createMediaMetrics = (registry: Registry) => ({
  queueDepth: new Gauge({
    name: 'kiln_media_queue_depth',
    help: 'Completions waiting on the work list, not yet taken by a worker',
    registers: [registry],
  }),
  inFlight: new Gauge({
    name: 'kiln_media_in_flight',
    help: 'Jobs being processed now (at most twice MEDIA_CONCURRENCY)',
    registers: [registry],
  }),
  making: new Gauge({
    name: 'kiln_media_making',
    help: 'Images whose variants are being made now (at most MEDIA_CONCURRENCY)',
    registers: [registry],
  }),
  processed: new Counter({
    name: 'kiln_media_processed_total',
    help: 'Jobs whose artifacts were stored',
    registers: [registry],
  }),
  failed: new Counter({
    name: 'kiln_media_failed_total',
    help: 'Jobs failed for their outputs, by code',
    labelNames: ['code'],
    registers: [registry],
  }),
  duration: new Histogram({
    name: 'kiln_media_processing_seconds',
    help: 'Time to download, convert and store one job, by outcome: stored, failed, or retried later',
    labelNames: ['outcome'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  }),
});

export type MediaMetrics = ReturnType<typeof createMediaMetrics>;
