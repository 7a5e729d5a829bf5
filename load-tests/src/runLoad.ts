import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureStack } from '@kiln/stack/testing';
import { loadSeconds, profiles, type ProfileName, type ScenarioName } from '#k6/lib/profiles.ts';
import { externalTarget } from '#src/args.ts';
import { runScenario, type Target } from '#src/k6/runScenario.ts';
import { loadTestsDir, repoRoot } from '#src/paths.ts';
import { startKiln } from '#src/kiln/startKiln.ts';
import { scenarioProgress } from '#src/progress.ts';
import { reportHtml } from '#src/results/report.ts';
import { resultOf, type RunResult } from '#src/results/runResult.ts';

export type LoadOptions = {
  scenarios: ScenarioName[];
  profile: ProfileName;
  /** Where the results go; `load-tests/results/<time>-<profile>` by default. */
  resultsDir?: string;
  /** Extra environment for k6 (KILN_FAULT, say). */
  k6Env?: Record<string, string>;
  /** Given a function that stops the run early (k6 is interrupted and everything is cleaned up). */
  onStart?: (interrupt: () => void) => void;
  env?: NodeJS.ProcessEnv;
};

const k6Binary = async (env: NodeJS.ProcessEnv) => {
  const k6 = env['KILN_K6'] || join(env['KILN_TOOLS_DIR'] || join(repoRoot, '.tools'), 'bin', 'k6');
  await access(k6, constants.X_OK).catch(() => {
    throw new Error(`no k6 at ${k6}: run \`npm run setup\` (it builds k6), or set KILN_K6`);
  });
  return k6;
};

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/**
 * `npm run load`: brings up the local stack's test profile if need be and starts a Kiln of its own on it
 * (or uses the deployment the environment names), runs each scenario's k6 script in turn, and keeps the
 * results: every scenario's k6 summary, samples and log, `summary.json` and `report.html`.
 */
export const runLoad = async (options: LoadOptions): Promise<RunResult> => {
  const env = options.env ?? process.env;
  const resultsDir = options.resultsDir ?? join(loadTestsDir, 'results', `${stamp()}-${options.profile}`);
  await mkdir(join(resultsDir, 'services'), { recursive: true });
  const external = externalTarget(env);
  if (!external) {
    process.stderr.write('bringing up the test stack and starting Kiln…\n');
    await ensureStack('test', { log: (line) => process.stderr.write(`kiln-stack: ${line}\n`) });
  }
  const k6 = await k6Binary(env);
  const kiln = external ? undefined : await startKiln(join(resultsDir, 'services'));
  const target: Target = external ?? (kiln as Target);
  const startedAt = new Date().toISOString();
  const runId = randomBytes(4).toString('hex');
  let interrupted = false;
  let interruptK6 = () => {};
  options.onStart?.(() => {
    interrupted = true;
    interruptK6();
  });
  const scenarios: RunResult['scenarios'] = [];
  try {
    for (const scenario of options.scenarios) {
      if (interrupted) break;
      const began = Date.now();
      const bar = scenarioProgress(scenario, loadSeconds(profiles[options.profile], scenario) + 15);
      const run = await runScenario({
        k6,
        scenario,
        profile: options.profile,
        target,
        resultsDir,
        runId,
        env: options.k6Env ?? {},
        onStart: (interrupt) => (interruptK6 = interrupt),
        onProgress: (series) => bar.update(series, Math.round((Date.now() - began) / 1000)),
      }).finally(() => bar.stop());
      scenarios.push(await resultOf(run));
    }
  } finally {
    await kiln?.stop();
  }
  const result: RunResult = {
    runId,
    profile: options.profile,
    startedAt,
    finishedAt: new Date().toISOString(),
    target: {
      commandUrl: target.commandUrl,
      queryUrl: target.queryUrl,
      hubUrl: target.hubUrl,
      local: !external,
    },
    services: kiln?.services ?? [],
    resultsDir,
    passed: !interrupted && scenarios.length > 0 && scenarios.every((scenario) => scenario.passed),
    scenarios,
  };
  await writeFile(join(resultsDir, 'summary.json'), JSON.stringify(result, null, 2));
  await writeFile(join(resultsDir, 'report.html'), await reportHtml(result));
  return result;
};
