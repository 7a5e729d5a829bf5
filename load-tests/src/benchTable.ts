#!/usr/bin/env node
// The last step of the root `npm run bench`: one table of every workspace's hot paths, from the figures
// each bench keeps in `.kiln/bench/<workspace>.json` (or the folder given as the first argument).
import { join } from 'node:path';
import { benchTable, readBenchFiles } from '#src/bench/table.ts';
import { repoRoot } from '#src/paths.ts';

const folder = process.argv[2] ?? join(repoRoot, '.kiln', 'bench');
const files = await readBenchFiles(folder);
if (files.length === 0) {
  process.stderr.write(`no bench results in ${folder}: run \`npm run bench\` first\n`);
  process.exitCode = 1;
} else {
  process.stdout.write(
    `\nKiln's hot paths against their raw baselines (${folder})\n\n${benchTable(files)}\n`,
  );
}
