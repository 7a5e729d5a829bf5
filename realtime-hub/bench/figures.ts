// What the fan-out bench prints: each figure beside its raw baseline with the ratio, then the goals.
import { printTable, type BenchRow } from '@kiln/stack/bench';
import type { Replayed, Side, Tally } from './crowd.ts';

const P99_GOAL = 1.5;
const REPLAY_GOAL = 0.5;

const percentile = (values: number[], p: number) => {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
const median = (values: number[]) => percentile(values, 50);
const ms = (value: number) => `${value.toFixed(1)} ms`;

export const reportFigures = (run: {
  clients: number;
  fanOut: Record<Side, Tally>;
  /** Per measured event and side: ms from the start of its append to the broadcaster hearing of it. */
  told: Record<Side, number[]>;
  perConnection: Record<'hub' | 'raw', number>;
  replays: Array<Replayed & { read: number; readSeconds: number }>;
}) => {
  const { fanOut, told } = run;
  const expected = told.hub.length * run.clients;
  const latency = (side: Side, p: number) => percentile(fanOut[side].latencies, p);
  for (const side of ['hub', 'raw', 'bare'] as const) {
    const { latencies, duplicates } = fanOut[side];
    const toldOf =
      side === 'bare'
        ? 'no append'
        : `told of the append p50 ${ms(percentile(told[side], 50))}, p99 ${ms(percentile(told[side], 99))}`;
    console.log(
      `${side}: ${latencies.length} of ${expected} deliveries measured (${duplicates} duplicates); ` +
        `${toldOf}; send to delivery p50 ${ms(latency(side, 50))}, p99 ${ms(latency(side, 99))}`,
    );
  }
  console.log(
    'told of the append: hub = the event store’s own NOTIFY (one per window of notifyEveryMs, sent after' +
      ' it); raw = a NOTIFY sent as soon as the append returns',
  );
  const replay = median(run.replays.map((turn) => turn.received / turn.seconds));
  const read = median(run.replays.map((turn) => turn.read / turn.readSeconds));
  for (const [turn, { received, seconds, outOfOrder, read: count, readSeconds }] of run.replays.entries())
    console.log(
      `replay ${turn + 1}: hub ${received} events in ${seconds.toFixed(3)} s (${outOfOrder} out of order), ` +
        `raw read ${count} in ${readSeconds.toFixed(3)} s`,
    );

  const baselines = [
    ['raw', 'raw: append, NOTIFY, socket.io broadcast'],
    ['bare', 'bare socket.io broadcast, no append'],
  ] as const;
  const rows: BenchRow[] = [
    ...baselines.flatMap(([side, baselineName]) =>
      [50, 99].map((p) => ({
        path: `fan-out p${p}, ${run.clients} clients (lower is better)`,
        unit: 'ms',
        kiln: latency('hub', p),
        baseline: latency(side, p),
        baselineName,
      })),
    ),
    {
      path: 'replay to one client',
      unit: 'events/s',
      kiln: replay,
      baseline: read,
      baselineName: 'raw read',
    },
    {
      path: 'memory per idle connection (lower is better)',
      unit: 'B',
      kiln: run.perConnection.hub,
      baseline: run.perConnection.raw,
      baselineName: 'raw socket.io connection',
    },
  ];
  printTable('realtime hub (median of the replay turns)', rows);

  const p99Goal = (side: 'raw' | 'bare', name: string) => {
    const ratio = latency('hub', 99) / latency(side, 99);
    return {
      goal: `fan-out p99 ≤ ${P99_GOAL}× ${name}`,
      measured: `${ratio.toFixed(2)}× (${ms(latency('hub', 99))} vs ${ms(latency(side, 99))})`,
      met: ratio <= P99_GOAL,
    };
  };
  const goals = [
    p99Goal('raw', 'raw pipeline'),
    p99Goal('bare', 'bare broadcast'),
    {
      goal: `replay ≥ ${REPLAY_GOAL}× raw read`,
      measured: `${(replay / read).toFixed(2)}× (${Math.round(replay)} vs ${Math.round(read)} events/s)`,
      met: replay / read >= REPLAY_GOAL,
    },
    {
      goal: 'every delivery once, every replay in order',
      measured: `${fanOut.hub.latencies.length}/${expected} hub, ${fanOut.raw.latencies.length}/${expected} raw, ${fanOut.bare.latencies.length}/${expected} bare`,
      met:
        fanOut.hub.latencies.length === expected &&
        fanOut.raw.latencies.length === expected &&
        fanOut.bare.latencies.length === expected &&
        fanOut.hub.duplicates + fanOut.raw.duplicates + fanOut.bare.duplicates === 0 &&
        run.replays.every((turn) => turn.outOfOrder === 0 && turn.read === turn.received),
    },
  ];
  console.table(goals.map(({ goal, measured, met }) => ({ goal, measured, met: met ? 'yes' : 'MISSED' })));
  return { rows, goalsMissed: goals.some((goal) => !goal.met) };
};
