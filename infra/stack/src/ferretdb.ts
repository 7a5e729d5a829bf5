import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { startOnce } from './lifecycle.ts';
import { livePid, spawnDetached, stopProcess } from './process.ts';
import {
  ferretdbDatabase,
  HOST,
  postgresUrl,
  profileUrls,
  type ProfileName,
  type ProfilePorts,
} from './profiles.ts';
import type { Service, ServiceContext, StopContext } from './service.ts';

interface FerretdbPaths {
  /** Also FerretDB's state folder. */
  dir: string;
  pidFile: string;
  logFile: string;
}

function ferretdbPaths(profileDir: string): FerretdbPaths {
  const dir = join(profileDir, 'ferretdb');
  return { dir, pidFile: join(dir, 'ferretdb.pid'), logFile: join(dir, 'ferretdb.log') };
}

function listenAddress(ports: ProfilePorts): string {
  return `${HOST}:${ports.ferretdb}`;
}

function marks(ports: ProfilePorts): string[] {
  return ['ferretdb', `--listen-addr=${listenAddress(ports)}`];
}

/** Connections FerretDB may open to PostgreSQL (which allows 200, see postgres-cluster.ts). */
export const FERRETDB_POOL_SIZE = 100;

export function ferretdbArguments(profile: ProfileName, ports: ProfilePorts, stateDir: string): string[] {
  return [
    '--handler=postgresql',
    // FerretDB v1 keeps one PostgreSQL connection per statement of a bulk update until the command ends;
    // its default pool of 50 can run dry under several writers (docs/decisions/007).
    `--postgresql-url=${postgresUrl(profile, ferretdbDatabase)}?pool_max_conns=${FERRETDB_POOL_SIZE}`,
    `--listen-addr=${listenAddress(ports)}`,
    `--debug-addr=${HOST}:${ports.ferretdbDebug}`,
    '--telemetry=disable',
    '--log-level=warn',
    `--state-dir=${stateDir}`,
  ];
}

async function answers(profile: ProfileName): Promise<boolean> {
  const client = new MongoClient(profileUrls(profile).mongoUrl, {
    directConnection: true,
    serverSelectionTimeoutMS: 1_500,
    connectTimeoutMS: 1_000,
    // A server that accepts connections but never answers (FerretDB with its PostgreSQL pool exhausted)
    // must count as not answering, not hang the caller.
    socketTimeoutMS: 3_000,
  });
  try {
    const reply = await client.db('admin').command({ ping: 1 });
    return reply['ok'] === 1;
  } catch {
    return false;
  } finally {
    await client.close();
  }
}

async function start(context: ServiceContext) {
  const paths = ferretdbPaths(context.dir);
  const { ports } = context;
  await mkdir(paths.dir, { recursive: true });
  return startOnce(context, {
    name: 'ferretdb',
    port: ports.ferretdb,
    ports: [ports.ferretdb, ports.ferretdbDebug],
    pidFile: paths.pidFile,
    marks: marks(ports),
    logFile: paths.logFile,
    startTimeoutMs: 30_000,
    answers: () => answers(context.profile),
    launch: async () => {
      const args = ferretdbArguments(context.profile, ports, paths.dir);
      await spawnDetached(context.tools.ferretdb, args, {
        logFile: paths.logFile,
        pidFile: paths.pidFile,
        cwd: paths.dir,
      });
    },
    launchedAlive: async () => (await livePid(paths.pidFile, marks(ports))) !== undefined,
  });
}

async function stop(context: StopContext): Promise<boolean> {
  const paths = ferretdbPaths(context.dir);
  const pid = await livePid(paths.pidFile, marks(context.ports));
  if (pid !== undefined) await stopProcess(pid, marks(context.ports), 15_000);
  await rm(paths.pidFile, { force: true });
  return pid !== undefined;
}

export const ferretdb: Service = {
  name: 'ferretdb',
  ports: (ports) => [ports.ferretdb, ports.ferretdbDebug],
  status: async (context) => ({
    name: 'ferretdb',
    address: listenAddress(context.ports),
    pid: await livePid(ferretdbPaths(context.dir).pidFile, marks(context.ports)),
  }),
  start,
  stop,
};
