import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { StackError } from './errors.ts';
import { startOnce } from './lifecycle.ts';
import { livePid, waitFor } from './process.ts';
import {
  initClusterIfNeeded,
  postgresPaths,
  preparePostgresDir,
  runAsPostgres,
  writeSettings,
  type PostgresPaths,
} from './postgres-cluster.ts';
import { eventStoreDatabase, ferretdbDatabase, HOST, postgresUrl, type ProfileName } from './profiles.ts';
import type { Service, ServiceContext, StopContext } from './service.ts';

const databases = [eventStoreDatabase, ferretdbDatabase];

function pidFile(paths: PostgresPaths): string {
  return join(paths.data, 'postmaster.pid');
}

/** The postmaster's command line is `.../postgres -D <data>`. */
function marks(paths: PostgresPaths): string[] {
  return ['postgres', paths.data];
}

async function withClient<T>(
  profile: ProfileName,
  database: string,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({
    connectionString: postgresUrl(profile, database),
    connectionTimeoutMillis: 2_000,
  });
  client.on('error', () => {});
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function answers(profile: ProfileName): Promise<boolean> {
  return withClient(
    profile,
    'postgres',
    async (client) => (await client.query('select 1 as ok')).rowCount === 1,
  ).catch(() => false);
}

async function createDatabases(profile: ProfileName): Promise<void> {
  await withClient(profile, 'postgres', async (client) => {
    for (const name of databases) {
      const found = await client.query('select 1 from pg_database where datname = $1', [name]);
      if (found.rowCount === 0) await client.query(`create database "${name}"`);
    }
  });
}

async function start(context: ServiceContext) {
  const paths = postgresPaths(context.dir);
  const port = context.ports.postgres;
  await preparePostgresDir(paths, port, context.profile);
  await initClusterIfNeeded(context, paths);
  const started = await startOnce(context, {
    name: 'postgres',
    port,
    ports: [port],
    pidFile: pidFile(paths),
    marks: marks(paths),
    logFile: paths.logFile,
    startTimeoutMs: 30_000,
    answers: () => answers(context.profile),
    launch: async () => {
      await writeSettings(paths, port);
      const pgCtl = join(context.tools.postgresBin, 'pg_ctl');
      await runAsPostgres(
        'pg_ctl start',
        pgCtl,
        ['-D', paths.data, '-l', paths.logFile, '-w', '-t', '60', 'start'],
        paths.dir,
      );
    },
  });
  await createDatabases(context.profile);
  return started;
}

async function stop(context: StopContext): Promise<boolean> {
  const paths = postgresPaths(context.dir);
  const pid = await livePid(pidFile(paths), marks(paths));
  if (pid === undefined) return false;
  if (context.tools.postgresBin === undefined) {
    throw new StackError(
      `PostgreSQL of profile '${context.profile}' runs (pid ${pid}) but its pg_ctl cannot be found`,
    );
  }
  const pgCtl = join(context.tools.postgresBin, 'pg_ctl');
  await runAsPostgres(
    'pg_ctl stop',
    pgCtl,
    ['-D', paths.data, '-m', 'fast', '-w', '-t', '60', 'stop'],
    paths.dir,
  );
  await waitFor(async () => (await livePid(pidFile(paths), marks(paths))) === undefined, {
    timeoutMs: 10_000,
  });
  await rm(pidFile(paths), { force: true });
  return true;
}

export const postgres: Service = {
  name: 'postgres',
  ports: (ports) => [ports.postgres],
  status: async (context) => {
    const paths = postgresPaths(context.dir);
    return {
      name: 'postgres',
      address: `${HOST}:${context.ports.postgres}`,
      pid: await livePid(pidFile(paths), marks(paths)),
    };
  },
  start,
  stop,
};
