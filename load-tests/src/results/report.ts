import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { RunResult } from '#src/results/runResult.ts';

const require = createRequire(import.meta.url);

/** uPlot's browser build and its stylesheet, inlined so the report opens offline, on its own. */
const uPlotAssets = async () => ({
  script: await readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
  style: await readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
});

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"]/g,
    (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[character] ?? '',
  );

/** JSON that may sit inside a <script> element. */
const inlineJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const scenarioSection = (scenario: RunResult['scenarios'][number], index: number) => `
<section>
  <h2 class="${scenario.passed ? 'pass' : 'fail'}">${scenario.passed ? 'PASS' : 'FAIL'} · ${escapeHtml(scenario.scenario)}
    <small>${Math.round(scenario.seconds)} s, exit code ${scenario.exitCode}</small></h2>
  <table>${scenario.figures.map((figure) => `<tr><th>${escapeHtml(figure.label)}</th><td>${escapeHtml(figure.value)}</td></tr>`).join('')}</table>
  <details${scenario.passed ? '' : ' open'}><summary>Thresholds (${scenario.thresholds.filter((t) => t.ok).length}/${scenario.thresholds.length} held)</summary>
  <table>${scenario.thresholds
    .map(
      (threshold) =>
        `<tr class="${threshold.ok ? 'pass' : 'fail'}"><td>${threshold.ok ? '✓' : '✗'}</td><td><code>${escapeHtml(threshold.metric)}</code></td><td><code>${escapeHtml(threshold.expression)}</code></td><td>${threshold.value === undefined ? '–' : threshold.value.toLocaleString('en-US', { maximumFractionDigits: 2 })}</td></tr>`,
    )
    .join('')}</table></details>
  <div class="charts" id="charts-${index}"></div>
</section>`;

const drawCharts = `
const run = JSON.parse(document.getElementById('run').textContent);
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
run.scenarios.forEach((scenario, index) => {
  const holder = document.getElementById('charts-' + index);
  for (const chart of scenario.charts) {
    const box = document.createElement('div');
    holder.appendChild(box);
    new uPlot({
      title: chart.title + ' (' + chart.unit + ')',
      width: 560, height: 240,
      scales: { x: { time: false } },
      axes: [{ label: 'seconds since the scenario began' }, { size: 60 }],
      series: [{ label: 's' }].concat(chart.lines.map((line, i) => ({
        label: line.label, stroke: colors[i % colors.length], width: 1.5, spanGaps: false,
      }))),
    }, [chart.seconds].concat(chart.lines.map((line) => line.values)), box);
  }
});`;

/** A small self-contained HTML page: each scenario's figures, thresholds and plots over time. */
export const reportHtml = async (run: RunResult): Promise<string> => {
  const { script, style } = await uPlotAssets();
  const charts = { scenarios: run.scenarios.map(({ charts }) => ({ charts })) };
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kiln load test ${escapeHtml(run.startedAt)}</title>
<style>${style}
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
h2.pass { color: #1a7f37; } h2.fail { color: #cf222e; } h2 small { color: #666; font-weight: normal; }
table { border-collapse: collapse; margin: .5rem 0; } th, td { text-align: left; padding: 2px 10px; vertical-align: top; }
tr.fail td { color: #cf222e; } .charts { display: flex; flex-wrap: wrap; gap: 1rem; }
section { border-top: 1px solid #ddd; margin-top: 1.5rem; }
</style></head><body>
<h1 class="${run.passed ? 'pass' : 'fail'}">Kiln load test: ${run.passed ? 'all thresholds held' : 'some thresholds did not hold'}</h1>
<p>Profile <b>${escapeHtml(run.profile)}</b>, ${escapeHtml(run.startedAt)} to ${escapeHtml(run.finishedAt)}, against
${run.target.local ? 'a local Kiln on the test stack' : escapeHtml(run.target.commandUrl)}
(command ${escapeHtml(run.target.commandUrl)}, query ${escapeHtml(run.target.queryUrl)}, hub ${escapeHtml(run.target.hubUrl)}).</p>
${run.scenarios.map(scenarioSection).join('\n')}
<script>${script}</script>
<script type="application/json" id="run">${inlineJson(charts)}</script>
<script>${drawCharts}</script>
</body></html>
`;
};
