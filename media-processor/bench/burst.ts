#!/usr/bin/env node
// A burst of 200 completions through the real media processor (its own process, the real event store),
// side by side in one run with a bare sharp pipeline making the same variants from the same inputs at
// the same concurrency, two bursts of each in turns, the best of each kept; images/s and peak RSS of both, against the goals (≥ 0.8× bare sharp, peak RSS of the
// processor ≤ 300 MB): exits 1 when one is missed.
import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { printTable, saveResults } from '@kiln/stack/bench';
import { ensureStack } from '@kiln/stack/testing';
import { startFileServer, serveBytes } from '#src/pipeline/testing/fileServer.ts';
import { makePng } from '#src/pipeline/testing/media.ts';
import { openTestEventStore } from '#src/testing/completions.ts';

const completions = Number(process.env['BENCH_COMPLETIONS'] ?? 200);
const concurrency = Number(process.env['BENCH_MEDIA_CONCURRENCY'] ?? 2);
const sharpConcurrency = 1;
const GOAL_RATIO = 0.8;
const ROUNDS = 2;
const GOAL_PEAK_RSS_MB = 300;
const urls = await ensureStack('test');

// Ten distinct 1024×768 pictures, served like a provider's outputs; each completion names one of them.
const pictures = await Promise.all(Array.from({ length: 10 }, (_, index) => makePng(1024, 768, index * 36)));
const files = await startFileServer(
  Object.fromEntries(pictures.map((bytes, index) => [`/out-${index}.png`, serveBytes(bytes, 'image/png')])),
);
const inputUrls = Array.from({ length: completions }, (_, index) =>
  files.url(`/out-${index % pictures.length}.png`),
);
const work = await mkdtemp(join(tmpdir(), 'kiln-media-bench-'));
await writeFile(join(work, 'inputs.json'), JSON.stringify(inputUrls));

/** One burst through bare sharp, in a process of its own. */
const bareBurst = async () =>
  JSON.parse(
    (
      await promisify(execFile)(process.execPath, [
        'bench/bare.ts',
        join(work, 'inputs.json'),
        String(concurrency),
        String(sharpConcurrency),
      ])
    ).stdout,
  ) as { imagesPerSecond: number; peakRssMb: number };

const events = await openTestEventStore();
const mediaSchema = `media_bench_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
const processor = spawn(process.execPath, ['src/main.ts'], {
  env: {
    ...process.env,
    PORT: '0',
    EVENTSTORE_URL: urls.eventStoreUrl,
    EVENTSTORE_SCHEMA: events.schema,
    IDENTITY_SCHEMA: `id_${events.schema}`,
    MEDIA_SCHEMA: mediaSchema,
    MEDIA_STORE: join(work, 'artifacts'),
    MEDIA_CONCURRENCY: String(concurrency),
    SHARP_CONCURRENCY: String(sharpConcurrency),
    LOG_LEVEL: 'warn',
    // As `npm start` runs it: fewer malloc arenas keep sharp's memory from fragmenting (sharp's own advice).
    MALLOC_ARENA_MAX: '2',
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
await new Promise((resolve) => setTimeout(resolve, 1_500)); // started and subscribed

/** One burst of completions through the processor: images/s from the first append to the last artifacts. */
const kilnBurst = async () => {
  // Counts artifacts events as they are appended (one subscription, not a read per job).
  const head = await events.store.headPosition();
  const watching = events.store.subscribeToAll(head ? { after: head } : {});
  const began = performance.now();
  const jobIds = new Set<string>();
  for (const url of inputUrls) jobIds.add(await events.succeeded([url]));
  let stored = 0;
  for await (const event of watching) {
    if (event.type === 'JobArtifactsStored' && jobIds.has(event.data.jobId)) stored += 1;
    if (event.type === 'JobFailed') throw new Error(`a bench job failed: ${JSON.stringify(event.data)}`);
    if (stored === jobIds.size) break;
  }
  await watching.close();
  return jobIds.size / ((performance.now() - began) / 1000);
};

// The two sides in turns, ROUNDS each, the best of each kept: a busy spell of the machine does not
// decide the ratio.
const bareRuns = [];
const kilnRates = [];
for (let round = 0; round < ROUNDS; round += 1) {
  bareRuns.push(await bareBurst());
  kilnRates.push(await kilnBurst());
}
const bare = {
  imagesPerSecond: Math.max(...bareRuns.map((run) => run.imagesPerSecond)),
  peakRssMb: Math.max(...bareRuns.map((run) => run.peakRssMb)),
};
const kilnRate = Math.max(...kilnRates);
console.log(
  `rounds: bare ${bareRuns.map((run) => run.imagesPerSecond.toFixed(1)).join(', ')} images/s; ` +
    `processor ${kilnRates.map((rate) => rate.toFixed(1)).join(', ')} images/s`,
);
const status = await readFile(`/proc/${processor.pid}/status`, 'utf8');
const kilnPeakMb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;

const rows = [
  {
    path: `media burst: ${completions} completions, ${concurrency} at a time (download, sniff, 3 variants, store, event)`,
    unit: 'images/s',
    kiln: kilnRate,
    baseline: bare.imagesPerSecond,
    baselineName: 'bare sharp, same variants',
  },
];
printTable('media processor', rows);
const ratio = kilnRate / bare.imagesPerSecond;
const goals = [
  {
    goal: `images/s ≥ ${GOAL_RATIO}× bare sharp`,
    measured: `${ratio.toFixed(2)}× (${kilnRate.toFixed(1)} vs ${bare.imagesPerSecond.toFixed(1)} images/s)`,
    met: ratio >= GOAL_RATIO,
  },
  {
    goal: `peak RSS of the media processor ≤ ${GOAL_PEAK_RSS_MB} MB`,
    measured: `${kilnPeakMb.toFixed(0)} MB (bare sharp process: ${bare.peakRssMb.toFixed(0)} MB)`,
    met: kilnPeakMb <= GOAL_PEAK_RSS_MB,
  },
];
console.table(goals.map(({ goal, measured, met }) => ({ goal, measured, met: met ? 'yes' : 'MISSED' })));
await saveResults('media-processor', rows);

processor.kill('SIGTERM');
await new Promise((resolve) => processor.once('exit', resolve));
await events.drop();
const admin = new pg.Client({ connectionString: urls.eventStoreUrl });
await admin.connect();
await admin.query(`drop schema if exists ${mediaSchema} cascade`);
await admin.end();
await files.close();
await rm(work, { recursive: true, force: true });
if (goals.some((goal) => !goal.met)) {
  console.error('media processor bench: a goal was missed');
  process.exitCode = 1;
}
