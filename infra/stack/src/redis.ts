import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startOnce } from './lifecycle.ts';
import { livePid, runChecked, stopProcess } from './process.ts';
import { HOST } from './profiles.ts';
import type { Service, ServiceContext, StopContext } from './service.ts';

interface RedisPaths {
  dir: string;
  pidFile: string;
  logFile: string;
}

function redisPaths(profileDir: string): RedisPaths {
  const dir = join(profileDir, 'redis');
  return { dir, pidFile: join(dir, 'redis.pid'), logFile: join(dir, 'redis.log') };
}

/** redis-server names itself `redis-server 127.0.0.1:<port>` once running. */
function marks(port: number): string[] {
  return ['redis-server', `${HOST}:${port}`];
}

export function redisArguments(port: number, paths: RedisPaths): string[] {
  return [
    ...['--bind', HOST, '--port', String(port), '--protected-mode', 'yes'],
    ...['--daemonize', 'yes', '--pidfile', paths.pidFile, '--logfile', paths.logFile, '--dir', paths.dir],
  ];
}

async function answers(port: number): Promise<boolean> {
  const client = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function start(context: ServiceContext) {
  const paths = redisPaths(context.dir);
  const port = context.ports.redis;
  await mkdir(paths.dir, { recursive: true });
  return startOnce(context, {
    name: 'redis',
    port,
    ports: [port],
    pidFile: paths.pidFile,
    marks: marks(port),
    logFile: paths.logFile,
    startTimeoutMs: 20_000,
    answers: () => answers(port),
    launch: async () => {
      await runChecked('redis-server', context.tools.redisServer, redisArguments(port, paths), {
        cwd: paths.dir,
      });
    },
  });
}

/** SIGTERM makes Redis shut down cleanly (saving its snapshot when configured to). */
async function stop(context: StopContext): Promise<boolean> {
  const paths = redisPaths(context.dir);
  const pid = await livePid(paths.pidFile, marks(context.ports.redis));
  if (pid !== undefined) await stopProcess(pid, marks(context.ports.redis), 30_000);
  await rm(paths.pidFile, { force: true });
  return pid !== undefined;
}

export const redis: Service = {
  name: 'redis',
  ports: (ports) => [ports.redis],
  status: async (context) => ({
    name: 'redis',
    address: `${HOST}:${context.ports.redis}`,
    pid: await livePid(redisPaths(context.dir).pidFile, marks(context.ports.redis)),
  }),
  start,
  stop,
};
