import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isProcessWith, lastLines, livePid } from './process.ts';

const dir = await mkdtemp(join(tmpdir(), 'kiln-stack-process-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('pid files', () => {
  it('recognizes a live process by the marks on its command line', async () => {
    expect(await isProcessWith(process.pid, ['node'])).toBe(true);
    expect(await isProcessWith(process.pid, ['redis-server 127.0.0.1:63790'])).toBe(false);
  });

  it('does not take a stale pid file for a running server', async () => {
    const pidFile = join(dir, 'stale.pid');
    await writeFile(pidFile, `${process.pid}\n`);
    expect(await livePid(pidFile, ['node'])).toBe(process.pid);
    expect(await livePid(pidFile, ['ferretdb', '--listen-addr=127.0.0.1:27027'])).toBeUndefined();
    await writeFile(pidFile, 'garbage\n');
    expect(await livePid(pidFile, ['node'])).toBeUndefined();
    expect(await livePid(join(dir, 'missing.pid'), ['node'])).toBeUndefined();
  });

  it('keeps the last lines of a log', () => {
    expect(lastLines('a\nb\nc\n', 2)).toBe('b\nc');
  });
});
