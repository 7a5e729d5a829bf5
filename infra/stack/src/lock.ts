import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/**
 * Runs work while holding `<dir>/<name>.lock`, waiting (up to 20 min: a cold build of the tools takes
 * minutes) for whoever holds it, so two processes never initdb or build at the same time.
 * A lock left by a killed process goes stale after 30 s.
 */
export async function withLock<T>(dir: string, name: string, work: () => Promise<T>): Promise<T> {
  await mkdir(dir, { recursive: true });
  const release = await lockfile.lock(dir, {
    lockfilePath: join(dir, `${name}.lock`),
    realpath: false,
    stale: 30_000,
    update: 5_000,
    retries: { retries: 2_400, factor: 1, minTimeout: 500, maxTimeout: 500 },
  });
  try {
    return await work();
  } finally {
    await release();
  }
}
