import type { ScenarioName } from '#k6/lib/profiles.ts';

/** One metric of k6's `--summary-export`: its statistics, and each threshold with `true` when crossed. */
type ExportedMetric = Record<string, number> & { thresholds?: Record<string, boolean> };
export type SummaryExport = { metrics: Record<string, ExportedMetric> };

export type Threshold = { metric: string; expression: string; ok: boolean; value: number | undefined };
export type Figure = { label: string; value: string };

/** The statistic a threshold expression is about: `p(95)<500` → `p(95)`, `rate<0.01` → `value`. */
const statisticOf = (expression: string): string => {
  const name = /^\s*([a-z]+(?:\(\d+(?:\.\d+)?\))?)/.exec(expression)?.[1] ?? 'value';
  return name === 'rate' ? 'value' : name;
};

export const thresholdsOf = (summary: SummaryExport): Threshold[] =>
  Object.entries(summary.metrics).flatMap(([metric, values]) =>
    Object.entries(values.thresholds ?? {}).map(([expression, crossed]) => ({
      metric,
      expression,
      ok: !crossed,
      value: values[statisticOf(expression)],
    })),
  );

const number = (value: number | undefined, digits = 0) =>
  value === undefined || Number.isNaN(value)
    ? '–'
    : value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ms = (value: number | undefined) => `${number(value)} ms`;
const percent = (value: number | undefined) => (value === undefined ? '–' : `${number(value * 100, 2)} %`);

/** The few figures that say how a scenario went, by scenario. */
export const figuresOf = (scenario: ScenarioName, summary: SummaryExport): Figure[] => {
  const metric = (name: string) => summary.metrics[name];
  const stat = (name: string, statistic: string) => metric(name)?.[statistic];
  const count = (name: string) => number(stat(name, 'count') ?? 0);
  const requests: Figure[] = [
    {
      label: 'requests',
      value: `${count('http_reqs')} (${number(stat('http_reqs', 'rate'), 1)}/s), failed ${percent(stat('http_req_failed', 'value'))}, unexpected ${count('unexpected_status')}`,
    },
  ];
  switch (scenario) {
    case 'commands':
      return [
        ...requests,
        {
          label: 'job creation',
          value: `${count('http_req_duration{name:POST /v1/jobs}')} jobs, p50 ${ms(stat('http_req_duration{name:POST /v1/jobs}', 'med'))}, p95 ${ms(stat('http_req_duration{name:POST /v1/jobs}', 'p(95)'))}, p99 ${ms(stat('http_req_duration{name:POST /v1/jobs}', 'p(99)'))}`,
        },
        {
          label: 'reads',
          value: `p95 ${ms(stat('http_req_duration{kind:read}', 'p(95)'))}; read-your-write p95 ${ms(stat('http_req_duration{name:GET /v1/jobs/:id?after}', 'p(95)'))}`,
        },
        {
          label: 'refusals on purpose',
          value: `402 ×${count('expected_refusals{status:402}')}, 429 ×${count('expected_refusals{status:429}')}; idempotency mismatches ${count('idempotency_mismatches')}, retries refused past the limit ${count('replays_refused')}`,
        },
        auditFigure(count),
      ];
    case 'fanout':
      return [
        ...requests,
        {
          label: 'delivery',
          value: `${count('events_received')} events to ${count('fanout_watchers_verified')} watchers; append→receipt p50 ${ms(stat('delivery_latency', 'med'))}, p95 ${ms(stat('delivery_latency', 'p(95)'))}, p99 ${ms(stat('delivery_latency', 'p(99)'))}, max ${ms(stat('delivery_latency', 'max'))}`,
        },
        {
          label: 'exactly once',
          value: `missed ${count('fanout_missed')}, duplicated ${count('fanout_duplicated')}, out of order ${count('fanout_out_of_order')}, unexpected ${count('fanout_unexpected')}, socket failures ${count('socket_failures')}; jobs lost from their session ${count('session_jobs_lost')} (409 retries ${count('conflict_retries')})`,
        },
        auditFigure(count),
      ];
    case 'replay':
      return [
        ...requests,
        {
          label: 'catch-ups',
          value: `${count('replay_catchups')} of ${count('replay_events_received')} events; subscribe→caught up p50 ${ms(stat('replay_catchup_time', 'med'))}, p95 ${ms(stat('replay_catchup_time', 'p(95)'))}, max ${ms(stat('replay_catchup_time', 'max'))}`,
        },
        {
          label: 'exactly once',
          value: `missed ${count('replay_missed')}, duplicated ${count('replay_duplicated')}, out of order ${count('replay_out_of_order')}, incomplete ${count('replay_incomplete')}, ack mismatches ${count('replay_ack_mismatches')}; history jobs lost from their session ${count('session_jobs_lost')} (409 retries ${count('conflict_retries')})`,
        },
        {
          label: 'hub memory',
          value: `RSS ${number((stat('hub_rss_bytes', 'max') ?? 0) / 2 ** 20)} MiB at most, growth over the start ${number((stat('hub_rss_growth_bytes', 'max') ?? 0) / 2 ** 20)} MiB at most`,
        },
      ];
    case 'audit':
      return [
        ...requests,
        {
          label: 'audits',
          value: `${count('billing_audits{phase:during}')} during the load; top-up retries that charged again ${count('idempotency_mismatches')}`,
        },
        auditFigure(count),
      ];
  }
};

const auditFigure = (count: (name: string) => string): Figure => ({
  label: 'billing audit',
  value: `${count('billing_audited_accounts')} accounts, mismatches ${count('billing_audit_mismatches')}, missing ${count('billing_audit_missing')}, unsettled ${count('billing_unsettled_accounts')}`,
});
