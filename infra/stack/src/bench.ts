import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from './paths.ts';

/** One hot path of a benchmark: Kiln's figure and its raw baseline, measured in the same run. */
export type BenchRow = { path: string; unit: string; kiln: number; baseline: number; baselineName: string };

const format = (value: number) => Math.round(value).toLocaleString('en-US');

export const printTable = (title: string, rows: BenchRow[]): void => {
  console.log(`\n${title}`);
  console.table(
    rows.map((row) => ({
      'hot path': row.path,
      kiln: `${format(row.kiln)} ${row.unit}`,
      baseline: `${format(row.baseline)} ${row.unit} (${row.baselineName})`,
      ratio: (row.kiln / row.baseline).toFixed(2),
    })),
  );
};

/** Keeps the last run's figures under the git-ignored .kiln/bench folder, where the root bench table reads them. */
export const saveResults = async (workspace: string, rows: BenchRow[]): Promise<void> => {
  const folder = join(repoRoot, '.kiln', 'bench');
  await mkdir(folder, { recursive: true });
  await writeFile(
    join(folder, `${workspace}.json`),
    JSON.stringify({ workspace, at: new Date().toISOString(), rows }, null, 2),
  );
};
