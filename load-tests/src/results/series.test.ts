import { describe, expect, it } from 'vitest';
import { createSeries } from '#src/results/series.ts';

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
const metric = (name: string, type: string) => JSON.stringify({ type: 'Metric', data: { name, type } });
const point = (name: string, second: number, value: number) =>
  JSON.stringify({ type: 'Point', metric: name, data: { time: at(second), value, tags: {} } });

describe("k6's JSON output as series per second", () => {
  it('gives latency percentiles, throughput and errors per second, and totals', () => {
    const series = createSeries();
    [
      metric('http_req_duration', 'trend'),
      metric('http_reqs', 'counter'),
      metric('http_req_failed', 'rate'),
      metric('fanout_missed', 'counter'),
      ...[10, 20, 30, 40].map((ms) => point('http_req_duration', 0, ms)),
      ...[0, 0, 0, 0].map(() => point('http_reqs', 0, 1)),
      point('http_req_duration', 2, 100),
      point('http_reqs', 2, 1),
      point('http_req_failed', 2, 1),
      '{"type":"Point","metric":"torn',
    ].forEach(series.add);
    const charts = Object.fromEntries(series.charts().map((chart) => [chart.title, chart]));
    expect(charts['HTTP latency']?.seconds).toEqual([0, 1, 2]);
    expect(charts['HTTP latency']?.lines).toEqual([
      { label: 'http_req_duration p50', values: [20, null, 100] },
      { label: 'http_req_duration p95', values: [40, null, 100] },
      { label: 'http_req_duration p99', values: [40, null, 100] },
    ]);
    expect(charts['Throughput']?.lines).toEqual([{ label: 'requests', values: [4, 0, 1] }]);
    expect(charts['Errors']?.lines).toEqual([
      { label: 'failed requests', values: [0, 0, 1] },
      { label: 'fanout_missed', values: [0, 0, 0] },
    ]);
    expect(series.total('http_reqs')).toBe(5);
    expect(series.recent('http_req_duration', 50)).toBe(30);
    expect(charts['Delivery latency (append to receipt)']).toBeUndefined();
  });

  it('plots the hub memory in MiB', () => {
    const series = createSeries();
    [
      metric('hub_rss_bytes', 'gauge'),
      point('hub_rss_bytes', 0, 64 * 2 ** 20),
      point('hub_rss_bytes', 1, 96 * 2 ** 20),
    ].forEach(series.add);
    const memory = series.charts().find((chart) => chart.title === 'Hub resident memory');
    expect(memory?.lines[0]?.values).toEqual([64, 96]);
  });
});
