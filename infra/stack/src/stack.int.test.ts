import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cliRunner.ts';
import { portTakenMessage } from './lifecycle.ts';
import { silentLogger } from './log.ts';
import { acceptsConnections } from './net.ts';
import { repoRoot } from './paths.ts';
import { envLines, profilePorts, profileUrls } from './profiles.ts';
import { down, status, up, type StackOptions, type UpResult } from './stack.ts';

// Its own profile and data folder, so it never meets the `test` stack other packages' tests use.
const profile = 'stacktest';
const ports = profilePorts(profile);
const urls = profileUrls(profile);
const allPorts = [ports.postgres, ports.redis, ports.ferretdb, ports.ferretdbDebug];
let options: StackOptions;
let first: UpResult;
/** The CLI pointed at this test's data folder, as `KILN_DATA_DIR` does for a user. */
const cli = (...args: string[]) =>
  runCli([...args, '--profile', profile], { ...process.env, KILN_DATA_DIR: options.dataDir });

function pids(result: UpResult): Record<string, number> {
  return Object.fromEntries(result.services.map((service) => [service.name, service.pid]));
}

async function queryPostgres(database: string, sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: urls.eventStoreUrl.replace(/\/kiln$/, `/${database}`) });
  await client.connect();
  try {
    return (await client.query<Record<string, unknown>>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  // A fixed folder, so servers left running by an interrupted earlier run are found and stopped first.
  const dataDir = join(repoRoot, '.kiln', 'stack-int');
  options = { profile, dataDir, log: silentLogger };
  await down(options);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755);
});

afterAll(async () => {
  await down(options);
  await rm(options.dataDir ?? '', { recursive: true, force: true });
});

describe('the stack', () => {
  it('comes up and each server answers through its real client', { timeout: 900_000 }, async () => {
    first = await up(options);
    expect(first.services.map((service) => [service.name, service.address, service.reused])).toEqual([
      ['postgres', `127.0.0.1:${ports.postgres}`, false],
      ['redis', `127.0.0.1:${ports.redis}`, false],
      ['ferretdb', `127.0.0.1:${ports.ferretdb}`, false],
    ]);
    expect(first.urls).toEqual(urls);

    expect(await queryPostgres('kiln', 'select 1 as ok')).toEqual([{ ok: 1 }]);
    expect(await queryPostgres('kiln', 'show fsync')).toEqual([{ fsync: 'on' }]);
    expect(await queryPostgres('kiln', 'show max_connections')).toEqual([{ max_connections: '200' }]);

    const redis = new Redis(urls.redisUrl);
    try {
      await redis.set('kiln-stack', 'ok');
      expect(await redis.get('kiln-stack')).toBe('ok');
    } finally {
      redis.disconnect();
    }

    const mongo = new MongoClient(urls.mongoUrl);
    try {
      const collection = mongo.db('kiln_stack_test').collection<{ _id: string; n: number }>('things');
      await collection.insertOne({ _id: 'a', n: 1 });
      expect(await collection.findOne({ _id: 'a' })).toEqual({ _id: 'a', n: 1 });
    } finally {
      await mongo.close();
    }
    // FerretDB keeps its data in the profile's PostgreSQL
    expect(
      await queryPostgres('ferretdb', "select 1 from pg_namespace where nspname = 'kiln_stack_test'"),
    ).toHaveLength(1);
  });

  it('prints, from the CLI, where each server listens, then the env lines', async () => {
    const result = await cli('up');
    expect(result.code, result.output).toBe(0);
    const started = pids(first);
    expect(result.stdout.trimEnd().split('\n')).toEqual([
      `# postgres listens on 127.0.0.1:${ports.postgres} (pid ${started['postgres']}, already running)`,
      `# redis    listens on 127.0.0.1:${ports.redis} (pid ${started['redis']}, already running)`,
      `# ferretdb listens on 127.0.0.1:${ports.ferretdb} (pid ${started['ferretdb']}, already running)`,
      ...envLines(urls),
    ]);
  });

  it('reuses the running servers on a second up', async () => {
    const second = await up(options);
    expect(second.services.every((service) => service.reused)).toBe(true);
    expect(pids(second)).toEqual(pids(first));
    expect(Object.fromEntries((await status(options)).map((service) => [service.name, service.pid]))).toEqual(
      pids(first),
    );
  });

  it('goes down, and the ports no longer accept connections', async () => {
    expect(await down(options)).toEqual([
      { name: 'postgres', wasRunning: true },
      { name: 'redis', wasRunning: true },
      { name: 'ferretdb', wasRunning: true },
    ]);
    for (const port of allPorts) expect(await acceptsConnections(port), `port ${port}`).toBe(false);
    expect((await status(options)).every((service) => service.pid === undefined)).toBe(true);
  });

  it('is harmless to take down again', async () => {
    expect((await down(options)).every((service) => !service.wasRunning)).toBe(true);
  });

  it('ignores a stale pid file and keeps its data across a restart', async () => {
    // a pid file whose process is alive but is not our Redis, as after a reboot reused the pid
    await writeFile(join(options.dataDir ?? '', profile, 'redis', 'redis.pid'), `${process.pid}\n`);
    const again = await up(options);
    expect(again.services.every((service) => !service.reused)).toBe(true);
    expect(pids(again)['redis']).not.toBe(process.pid);

    const mongo = new MongoClient(urls.mongoUrl);
    try {
      expect(await mongo.db('kiln_stack_test').collection('things').countDocuments()).toBe(1);
    } finally {
      await mongo.close();
    }
    await down(options);
  });

  it('names the port and the profile, and starts nothing, when a port is taken by a stranger (the CLI in one line, exit 1)', async () => {
    const stranger: Server = createServer();
    await new Promise<void>((resolve) => stranger.listen(ports.redis, '127.0.0.1', resolve));
    try {
      await expect(up(options)).rejects.toThrow(
        `port ${ports.redis} is already taken by another process, so redis of profile 'stacktest' cannot listen`,
      );
      // checked before anything starts, so nothing is left half up
      expect((await status(options)).every((service) => service.pid === undefined)).toBe(true);

      // from the CLI: that one sentence, and no stack trace
      const result = await cli('up');
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.output).toBe(`kiln-stack: ${portTakenMessage('redis', ports.redis, profile)}\n`);
    } finally {
      await new Promise((resolve) => stranger.close(resolve));
      await down(options);
    }
  });
});
