import { readFile } from 'node:fs/promises';
import type { ProfileName, ScenarioName } from '#k6/lib/profiles.ts';
import type { ScenarioRun } from '#src/k6/runScenario.ts';
import type { Chart } from '#src/results/series.ts';
import {
  figuresOf,
  thresholdsOf,
  type Figure,
  type SummaryExport,
  type Threshold,
} from '#src/results/summary.ts';

export type ScenarioResult = {
  scenario: ScenarioName;
  exitCode: number;
  /** Every threshold held and k6 ran to its end. */
  passed: boolean;
  startedAt: string;
  seconds: number;
  thresholds: Threshold[];
  figures: Figure[];
  charts: Chart[];
  files: ScenarioRun['files'];
  /** k6's end-of-test statistics of every metric. */
  metrics: SummaryExport['metrics'];
};

export type RunResult = {
  runId: string;
  profile: ProfileName;
  startedAt: string;
  finishedAt: string;
  target: { commandUrl: string; queryUrl: string; hubUrl: string; local: boolean };
  services: Array<{ name: string; url: string; pid: number | undefined }>;
  resultsDir: string;
  passed: boolean;
  scenarios: ScenarioResult[];
};

/** What k6 left of one scenario: its summary export (none when it could not start), figures and plots. */
export const resultOf = async (run: ScenarioRun): Promise<ScenarioResult> => {
  const summary = await readFile(run.files.summary, 'utf8').then(
    (text) => JSON.parse(text) as SummaryExport,
    () => ({ metrics: {} }) satisfies SummaryExport,
  );
  return {
    scenario: run.scenario,
    exitCode: run.exitCode,
    passed: run.exitCode === 0,
    startedAt: run.startedAt,
    seconds: run.seconds,
    thresholds: thresholdsOf(summary),
    figures: figuresOf(run.scenario, summary),
    charts: run.series.charts(),
    files: run.files,
    metrics: summary.metrics,
  };
};

const exitMeaning = (code: number) =>
  code === 0
    ? 'passed'
    : code === 99
      ? 'thresholds crossed'
      : code === 130
        ? 'interrupted'
        : `k6 stopped with exit code ${code} (see the .k6.log)`;

const format = (value: number | undefined) =>
  value === undefined ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: 2 });

/** The one-screen summary printed at the end of `npm run load`. */
export const screenOf = (run: RunResult): string => {
  const lines = [
    '',
    `Kiln load test (${run.profile}) against ${run.target.local ? 'a local Kiln on the test stack' : run.target.commandUrl}`,
  ];
  for (const scenario of run.scenarios) {
    const held = scenario.thresholds.filter((threshold) => threshold.ok).length;
    lines.push(
      '',
      `${scenario.passed ? 'PASS' : 'FAIL'}  ${scenario.scenario}  ${Math.round(scenario.seconds)} s, ${held}/${scenario.thresholds.length} thresholds held${scenario.passed ? '' : `: ${exitMeaning(scenario.exitCode)}`}`,
    );
    for (const figure of scenario.figures) lines.push(`      ${figure.label.padEnd(20)} ${figure.value}`);
    for (const threshold of scenario.thresholds.filter((each) => !each.ok))
      lines.push(`      ✗ ${threshold.metric}: ${threshold.expression} (was ${format(threshold.value)})`);
  }
  lines.push(
    '',
    `${run.passed ? 'All thresholds held.' : 'Some thresholds did not hold.'} Report: ${run.resultsDir}/report.html`,
    '',
  );
  return lines.join('\n');
};
