import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGzip } from 'node:zlib';
import type { ProfileName, ScenarioName } from '#k6/lib/profiles.ts';
import { loadTestsDir } from '#src/paths.ts';
import { createSeries, type Series } from '#src/results/series.ts';

export type Target = { commandUrl: string; queryUrl: string; hubUrl: string; adminToken: string };

export type ScenarioRun = {
  scenario: ScenarioName;
  /** k6's: 0 passed, 99 a threshold crossed, anything else an error of the script or of k6. */
  exitCode: number;
  startedAt: string;
  seconds: number;
  series: Series;
  files: { summary: string; samples: string; textSummary: string; log: string };
};

const scriptsDir = join(loadTestsDir, 'k6');

/** Reads what k6 appends to its JSON output, line by line, until told to stop (then drains the rest). */
const tail = (path: string, onLine: (line: string) => void) => {
  let stopped = false;
  const done = (async () => {
    let handle: Awaited<ReturnType<typeof open>> | undefined;
    let offset = 0;
    let partial = '';
    const buffer = Buffer.alloc(1 << 20);
    for (;;) {
      const finishing = stopped;
      handle ??= await open(path, 'r').catch(() => undefined);
      if (handle) {
        for (;;) {
          const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          const lines = (partial + buffer.subarray(0, bytesRead).toString('utf8')).split('\n');
          partial = lines.pop() ?? '';
          lines.forEach(onLine);
        }
      }
      if (finishing) break;
      await sleep(250);
    }
    if (partial) onLine(partial);
    await handle?.close();
  })();
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
};

/**
 * Runs one scenario's k6 script against `target`: the end-of-test summary as JSON (`--summary-export`)
 * and as k6's text, every sample as JSON lines (gzipped once done), its console in a log; the samples
 * are folded into per-second series while it runs, and `onProgress` is told every second.
 */
export const runScenario = async (options: {
  k6: string;
  scenario: ScenarioName;
  profile: ProfileName;
  target: Target;
  resultsDir: string;
  runId: string;
  env?: Record<string, string>;
  onProgress?: (series: Series) => void;
  /** Called with a function that interrupts k6 (SIGINT: it stops and still writes its summary). */
  onStart?: (interrupt: () => void) => void;
}): Promise<ScenarioRun> => {
  const { scenario, resultsDir } = options;
  const files = {
    summary: join(resultsDir, `${scenario}.summary.json`),
    samples: join(resultsDir, `${scenario}.samples.json`),
    textSummary: join(resultsDir, `${scenario}.k6.txt`),
    log: join(resultsDir, `${scenario}.k6.log`),
  };
  const series = createSeries();
  const startedAt = new Date();
  const child = spawn(
    options.k6,
    [
      'run',
      '--quiet',
      '--no-color',
      '--summary-export',
      files.summary,
      '--out',
      `json=${files.samples}`,
      '--system-tags',
      'status,method,name,scenario,expected_response,error_code',
      join(scriptsDir, `${scenario}.ts`),
    ],
    {
      env: {
        ...process.env,
        KILN_COMMAND_URL: options.target.commandUrl,
        KILN_QUERY_URL: options.target.queryUrl,
        KILN_HUB_URL: options.target.hubUrl,
        KILN_ADMIN_TOKEN: options.target.adminToken,
        KILN_LOAD_PROFILE: options.profile,
        KILN_RUN_ID: `${options.runId}-${scenario}`,
        K6_NO_USAGE_REPORT: 'true',
        ...options.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout.pipe(createWriteStream(files.textSummary));
  child.stderr.pipe(createWriteStream(files.log));
  options.onStart?.(() => child.kill('SIGINT'));
  const following = tail(files.samples, (line) => series.add(line));
  const progress = setInterval(() => options.onProgress?.(series), 1000);
  const exitCode = await new Promise<number>((resolve) => {
    child.once('error', () => resolve(127));
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
  });
  clearInterval(progress);
  await following.stop();
  options.onProgress?.(series);
  await pipeline(
    createReadStream(files.samples),
    createGzip(),
    createWriteStream(`${files.samples}.gz`),
  ).then(
    () => rm(files.samples),
    () => undefined,
  );
  return {
    scenario,
    exitCode,
    startedAt: startedAt.toISOString(),
    seconds: (Date.now() - startedAt.getTime()) / 1000,
    series,
    files: { ...files, samples: `${files.samples}.gz` },
  };
};
