/**
 * k6's JSON output (one line per metric declaration or sample) folded into per-second series, as it is
 * written: the live progress reads it, and the report plots it.
 */

type Kind = 'counter' | 'gauge' | 'rate' | 'trend';

/** Trends kept whole per second, for percentiles over time (the others are summed or sampled). */
const PLOTTED_TRENDS = new Set(['http_req_duration', 'delivery_latency', 'replay_catchup_time']);

type Line =
  | { type: 'Metric'; data: { name: string; type: Kind } }
  | { type: 'Point'; metric: string; data: { time: string; value: number; tags?: Record<string, string> } };

export type Line2D = { label: string; values: Array<number | null> };
export type Chart = { title: string; unit: string; seconds: number[]; lines: Line2D[] };

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;

export const createSeries = () => {
  const kinds = new Map<string, Kind>();
  const trends = new Map<string, Map<number, number[]>>();
  const sums = new Map<string, Map<number, number>>();
  const lasts = new Map<string, Map<number, number>>();
  const totals = new Map<string, number>();
  let origin: number | undefined;
  let latest = 0;

  const bucketOf = <Value>(store: Map<string, Map<number, Value>>, metric: string) => {
    let buckets = store.get(metric);
    if (!buckets) store.set(metric, (buckets = new Map()));
    return buckets;
  };

  const addPoint = (metric: string, time: number, value: number) => {
    origin ??= time;
    const second = Math.max(0, Math.floor((time - origin) / 1000));
    latest = Math.max(latest, second);
    const kind = kinds.get(metric) ?? 'counter';
    totals.set(metric, (totals.get(metric) ?? 0) + value);
    if (kind === 'trend') {
      if (!PLOTTED_TRENDS.has(metric)) return;
      const buckets = bucketOf(trends, metric);
      const values = buckets.get(second);
      if (values) values.push(value);
      else buckets.set(second, [value]);
    } else if (kind === 'gauge') {
      bucketOf(lasts, metric).set(second, value);
    } else {
      const buckets = bucketOf(sums, metric);
      buckets.set(second, (buckets.get(second) ?? 0) + value);
    }
  };

  const seconds = () => Array.from({ length: latest + 1 }, (_, second) => second);
  const sumLine = (label: string, metrics: string[], scale = 1): Line2D => ({
    label,
    values: seconds().map((second) =>
      metrics.reduce((sum, metric) => sum + (sums.get(metric)?.get(second) ?? 0) * scale, 0),
    ),
  });
  const percentileLines = (metric: string): Line2D[] =>
    [50, 95, 99].map((p) => ({
      label: `${metric} p${p}`,
      values: seconds().map((second) => {
        const values = trends.get(metric)?.get(second);
        return values
          ? percentile(
              [...values].sort((a, b) => a - b),
              p,
            )
          : null;
      }),
    }));
  const hasData = (line: Line2D) => line.values.some((value) => value !== null && value !== 0);

  return {
    /** One line of k6's JSON output; lines that are not JSON (a torn write) are ignored. */
    add: (text: string) => {
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        return;
      }
      if (line.type === 'Metric') kinds.set(line.data.name, line.data.type);
      else if (line.type === 'Point') addPoint(line.metric, Date.parse(line.data.time), line.data.value);
    },
    /** The sum of a counter (or of a rate's true samples) so far. */
    total: (metric: string): number => totals.get(metric) ?? 0,
    /** A trend's percentile over the last `window` seconds, for progress. */
    recent: (metric: string, p: number, window = 5): number | undefined => {
      const values = [...(trends.get(metric) ?? new Map<number, number[]>())]
        .filter(([second]) => second > latest - window)
        .flatMap(([, list]) => list);
      return values.length > 0
        ? percentile(
            values.sort((a, b) => a - b),
            p,
          )
        : undefined;
    },
    elapsed: () => latest,
    /** The report's plots, those with something to show. */
    charts: (): Chart[] => {
      const errorMetrics = [...kinds.keys()].filter((metric) =>
        /(_missed|_duplicated|_out_of_order|_unexpected|_incomplete|_mismatches|_failures|_resyncs|unexpected_status|_unsettled|_missing|_refused|_lost)$/.test(
          metric,
        ),
      );
      const charts: Chart[] = [
        {
          title: 'HTTP latency',
          unit: 'ms',
          seconds: seconds(),
          lines: percentileLines('http_req_duration'),
        },
        {
          title: 'Throughput',
          unit: '/s',
          seconds: seconds(),
          lines: [
            sumLine('requests', ['http_reqs']),
            sumLine('events received', ['events_received', 'replay_events_received']),
          ],
        },
        {
          title: 'Errors',
          unit: '/s',
          seconds: seconds(),
          lines: [
            sumLine('failed requests', ['http_req_failed']),
            ...errorMetrics.map((m) => sumLine(m, [m])),
          ],
        },
        {
          title: 'Delivery latency (append to receipt)',
          unit: 'ms',
          seconds: seconds(),
          lines: percentileLines('delivery_latency'),
        },
        {
          title: 'Catch-up time (subscribe to caught up)',
          unit: 'ms',
          seconds: seconds(),
          lines: percentileLines('replay_catchup_time'),
        },
        {
          title: 'Hub resident memory',
          unit: 'MiB',
          seconds: seconds(),
          lines: [
            {
              label: 'RSS',
              values: seconds().map((second) => {
                const bytes = lasts.get('hub_rss_bytes')?.get(second);
                return bytes === undefined ? null : bytes / 1024 / 1024;
              }),
            },
          ],
        },
      ];
      return charts
        .map((chart) => (chart.title === 'Errors' ? chart : { ...chart, lines: chart.lines.filter(hasData) }))
        .filter((chart) => chart.lines.some(hasData) || chart.title === 'Errors');
    },
  };
};

export type Series = ReturnType<typeof createSeries>;
