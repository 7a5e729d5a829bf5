import { describe, expect, it } from 'vitest';
import { figuresOf, thresholdsOf, type SummaryExport } from '#src/results/summary.ts';

const summary = {
  metrics: {
    http_reqs: { count: 1200, rate: 20 },
    http_req_failed: { value: 0.001, passes: 1, fails: 1199, thresholds: { 'rate<0.01': false } },
    delivery_latency: {
      med: 11,
      'p(95)': 40,
      'p(99)': 1200,
      max: 1300,
      thresholds: { 'p(95)<500': false, 'p(99)<1000': true },
    },
    fanout_missed: { count: 2, rate: 0.1, thresholds: { 'count==0': true } },
    events_received: { count: 5000, rate: 100 },
  },
} as unknown as SummaryExport;

describe("k6's summary export", () => {
  it('lists each threshold, whether it held, and the value it was about', () => {
    expect(thresholdsOf(summary)).toEqual([
      { metric: 'http_req_failed', expression: 'rate<0.01', ok: true, value: 0.001 },
      { metric: 'delivery_latency', expression: 'p(95)<500', ok: true, value: 40 },
      { metric: 'delivery_latency', expression: 'p(99)<1000', ok: false, value: 1200 },
      { metric: 'fanout_missed', expression: 'count==0', ok: false, value: 2 },
    ]);
  });

  it("puts a scenario's figures in a few words", () => {
    const figures = Object.fromEntries(
      figuresOf('fanout', summary).map(({ label, value }) => [label, value]),
    );
    expect(figures['requests']).toBe('1,200 (20.0/s), failed 0.10 %, unexpected 0');
    expect(figures['delivery']).toContain('5,000 events');
    expect(figures['delivery']).toContain('p99 1,200 ms');
    expect(figures['exactly once']).toContain('missed 2');
  });
});
