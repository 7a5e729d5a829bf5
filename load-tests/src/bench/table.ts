import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BenchRow } from '@kiln/stack/bench';

/** What each workspace's bench keeps of its last run (`saveResults` in @kiln/stack/bench). */
export type BenchFile = { workspace: string; at: string; rows: BenchRow[] };

/** A file older than the newest by this much comes from an earlier `npm run bench`. */
const EARLIER_RUN_MS = 60 * 60 * 1000;

const isBenchFile = (value: unknown): value is BenchFile => {
  const file = value as Partial<BenchFile> | null;
  return typeof file?.workspace === 'string' && typeof file.at === 'string' && Array.isArray(file.rows);
};

/** Every `<workspace>.json` in the folder, by workspace name; files that are not a bench's are skipped. */
export const readBenchFiles = async (folder: string): Promise<BenchFile[]> => {
  const names = (await readdir(folder).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.json'))
    .sort();
  const files = await Promise.all(
    names.map(async (name) => {
      const parsed: unknown = JSON.parse(await readFile(join(folder, name), 'utf8'));
      return isBenchFile(parsed) ? [parsed] : [];
    }),
  );
  return files.flat();
};

const figure = (value: number, unit: string) =>
  `${value.toLocaleString('en-US', { maximumFractionDigits: value < 100 ? 1 : 0 })} ${unit}`;

/** Columns padded to their widest cell, a rule under the header. */
const layout = (rows: string[][]): string => {
  const widths = (rows[0] ?? []).map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const [header = [], ...body] = rows;
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...body.map(line)].join('\n');
};

/**
 * One table of every hot path: Kiln's figure, the raw baseline measured in the same run beside it, and
 * their ratio (Kiln ÷ baseline: below 1 is slower for a rate, above 1 is slower for a latency).
 */
export const benchTable = (files: BenchFile[]): string => {
  const newest = Math.max(...files.map((file) => Date.parse(file.at)));
  const rows = files.flatMap((file) =>
    file.rows.map((row) => [
      file.workspace,
      row.path,
      figure(row.kiln, row.unit),
      `${figure(row.baseline, row.unit)} (${row.baselineName})`,
      row.baseline === 0 ? '–' : (row.kiln / row.baseline).toFixed(2),
      `${file.at.slice(0, 16).replace('T', ' ')}${newest - Date.parse(file.at) > EARLIER_RUN_MS ? ' (earlier run)' : ''}`,
    ]),
  );
  return layout([
    ['workspace', 'hot path', 'kiln', 'baseline (same run)', 'ratio', 'measured (UTC)'],
    ...rows,
  ]);
};
