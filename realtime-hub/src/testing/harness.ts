import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';
import { testEnv } from '@kiln/stack/testing';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A real hub in its own process (`node src/main.ts`) on a fixed port, so it can be killed with -9 and
 * started again at the same address, over the schemas of a command service under test.
 */
export const startHubProcess = async (options: {
  eventStoreSchema: string;
  identitySchema: string;
  mongoUrl: string;
  redisPrefix: string;
  env?: Record<string, string>;
}) => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(process.execPath, ['src/main.ts'], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: {
        ...process.env,
        PORT: String(port),
        EVENTSTORE_URL: testEnv().eventStoreUrl,
        EVENTSTORE_SCHEMA: options.eventStoreSchema,
        IDENTITY_SCHEMA: options.identitySchema,
        MONGO_URL: options.mongoUrl,
        REDIS_URL: testEnv().redisUrl,
        REDIS_PREFIX: options.redisPrefix,
        LOG_LEVEL: 'error',
        ...options.env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let tries = 0; tries < 300; tries += 1) {
      if ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok) return;
      await sleep(50);
    }
    throw new Error(`the hub at ${url} did not come up`);
  };
  const stop = async (signal: NodeJS.Signals) => {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  const isRunning = () => child !== undefined && child.exitCode === null && child.signalCode === null;
  await start();
  return {
    url,
    start,
    /** Starts it again if a test left it stopped, so one failure does not take the next tests down too. */
    ensureRunning: async () => {
      if (!isRunning()) await start();
    },
    /** kill -9: no goodbye to its clients. */
    kill: () => stop('SIGKILL'),
    /** A graceful stop, as a deploy does it. */
    stop: () => stop('SIGTERM'),
  };
};

export type HubProcess = Awaited<ReturnType<typeof startHubProcess>>;

export const redisPrefixForTest = () => `hub${randomUUID().replaceAll('-', '').slice(0, 10)}`;

const progressed = (jobId: string, index: number, progress: number, log: string) => ({
  id: randomUUID(),
  type: 'JobProgressed' as const,
  data: { jobId, step: `step ${index}`, progress, ...(log ? { log } : {}) },
  metadata: {
    correlationId: 'hub-test',
    causationId: null,
    actor: { kind: 'provider' as const, id: 'local' },
    at: new Date().toISOString(),
  },
});

/** A provider reporting progress on a job: `count` events, one every `everyMs`. */
export const appendProgress = async (
  store: EventStore<KilnEvent>,
  jobId: string,
  count: number,
  everyMs: number,
  log = '',
) => {
  let last: string | undefined;
  for (let index = 0; index < count; index += 1) {
    ({ position: last } = await store.appendToStream(jobStreamId(jobId), [
      progressed(jobId, index, index / count, log),
    ]));
    if (everyMs > 0) await sleep(everyMs);
  }
  /** The position of the last one appended. */
  return last;
};

/**
 * A provider reporting progress on a job, one event every `everyMs`, until told to stop: a fault test
 * can then show that appends were still going on when it struck, and after.
 */
export const keepAppending = (store: EventStore<KilnEvent>, jobId: string, everyMs: number) => {
  let appended = 0;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  const running = (async () => {
    while (!stopped) {
      await store.appendToStream(jobStreamId(jobId), [progressed(jobId, appended, 0.5, '')]);
      appended += 1;
      await sleep(everyMs);
    }
  })().catch((error: unknown) => {
    stopped = true;
    failure = { error };
  });
  return {
    appended: () => appended,
    /** Resolves once `count` more events than now are stored. */
    more: async (count: number) => {
      const target = appended + count;
      while (appended < target && !stopped) await sleep(10);
    },
    stop: async () => {
      stopped = true;
      await running;
      if (failure) throw failure.error;
      return appended;
    },
  };
};
