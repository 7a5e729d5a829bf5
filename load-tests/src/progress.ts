import { Presets, SingleBar } from 'cli-progress';
import type { Series } from '#src/results/series.ts';

const live = (series: Series) => {
  const p95 = series.recent('http_req_duration', 95);
  const latency = series.recent('delivery_latency', 95);
  const events = series.total('events_received') + series.total('replay_events_received');
  return [
    `${series.total('http_reqs').toLocaleString('en-US')} requests (${series.total('http_req_failed')} failed)`,
    ...(p95 === undefined ? [] : [`p95 ${Math.round(p95)} ms`]),
    ...(events > 0 ? [`${events.toLocaleString('en-US')} events`] : []),
    ...(latency === undefined ? [] : [`delivery p95 ${Math.round(latency)} ms`]),
  ].join(' · ');
};

/**
 * A bar per scenario, over about how long its load runs (set-up and settling come on top): redrawn in
 * place on a terminal, a line every 5 s otherwise (CI, a pipe, the smoke test).
 */
export const scenarioProgress = (scenario: string, expectedSeconds: number) => {
  const bar = new SingleBar(
    {
      format: `${scenario.padEnd(9)} [{bar}] {value}s | {detail}`,
      noTTYOutput: true,
      notTTYSchedule: 5_000,
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  bar.start(expectedSeconds, 0, { detail: 'setting up' });
  return {
    update: (series: Series, elapsedSeconds: number) => {
      if (elapsedSeconds > bar.getTotal()) bar.setTotal(elapsedSeconds);
      bar.update(elapsedSeconds, { detail: live(series) });
    },
    stop: () => bar.stop(),
  };
};
