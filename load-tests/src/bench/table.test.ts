import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { benchTable, readBenchFiles } from '#src/bench/table.ts';

let folder = '';
afterEach(() => rm(folder, { recursive: true, force: true }));

const write = (name: string, content: unknown) => writeFile(join(folder, name), JSON.stringify(content));

describe('the root bench table', () => {
  it('puts every hot path of every workspace with its baseline and their ratio in one table', async () => {
    folder = await mkdtemp(join(tmpdir(), 'kiln-bench-'));
    await write('event-store.json', {
      workspace: 'event-store',
      at: '2026-12-01T20:30:00.000Z',
      rows: [
        {
          path: 'append, 8 writers',
          unit: 'events/s',
          kiln: 2400,
          baseline: 3000,
          baselineName: 'raw INSERT',
        },
      ],
    });
    await write('realtime-hub.json', {
      workspace: 'realtime-hub',
      at: '2026-12-01T22:00:00.000Z',
      rows: [
        {
          path: 'fan-out p99 (lower is better)',
          unit: 'ms',
          kiln: 12.5,
          baseline: 5,
          baselineName: 'raw broadcast',
        },
      ],
    });
    await write('notes.json', { something: 'else' });
    const files = await readBenchFiles(folder);
    expect(files.map((file) => file.workspace)).toEqual(['event-store', 'realtime-hub']);
    const lines = benchTable(files).split('\n');
    expect(lines[0]).toMatch(
      /^workspace\s+hot path\s+kiln\s+baseline \(same run\)\s+ratio\s+measured \(UTC\)$/,
    );
    expect(lines[1]).toMatch(/^-+( +-+){5}$/);
    expect(lines[2]).toMatch(
      /^event-store\s+append, 8 writers\s+2,400 events\/s\s+3,000 events\/s \(raw INSERT\)\s+0\.80\s+2026-12-01 20:30 \(earlier run\)$/,
    );
    expect(lines[3]).toMatch(
      /^realtime-hub\s+fan-out p99 \(lower is better\)\s+12\.5 ms\s+5 ms \(raw broadcast\)\s+2\.50\s+2026-12-01 22:00$/,
    );
  });

  it('finds nothing in a folder that is not there', async () => {
    folder = join(tmpdir(), 'kiln-bench-none');
    expect(await readBenchFiles(folder)).toEqual([]);
  });
});
