import { appendFile, chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { StackError } from './errors.ts';
import { run, runChecked, type RunResult } from './process.ts';
import { HOST, postgresUser, type ProfileName } from './profiles.ts';
import type { ServiceContext } from './service.ts';
import { isRoot } from './system.ts';

export interface PostgresPaths {
  /** Owned by the postgres user when we are root; also the Unix socket folder. */
  dir: string;
  data: string;
  logFile: string;
}

export function postgresPaths(profileDir: string): PostgresPaths {
  const dir = join(profileDir, 'postgres');
  return { dir, data: join(dir, 'data'), logFile: join(dir, 'postgres.log') };
}

/** Our settings live in their own file, included from postgresql.conf and rewritten on every start. */
export function postgresSettings(port: number, socketDir: string): string {
  return [
    `listen_addresses = '${HOST}'`,
    `port = ${port}`,
    `unix_socket_directories = '${socketDir}'`,
    'max_connections = 200',
    // durable commits: benchmarks run against this stack and must be honest
    'fsync = on',
    'synchronous_commit = on',
    'full_page_writes = on',
    '',
  ].join('\n');
}

const maxSocketPathBytes = 107;

/**
 * PostgreSQL refuses to run as root: as root, every PostgreSQL command runs as the postgres system user
 * (runuser), in a folder it can enter (its cwd must be readable by it).
 */
export function runAsPostgres(
  what: string,
  command: string,
  args: readonly string[],
  cwd: string,
): Promise<RunResult> {
  return isRoot()
    ? runChecked(what, 'runuser', ['-u', postgresUser, '--', command, ...args], { cwd })
    : runChecked(what, command, args, { cwd });
}

/** Creates the postgres folder, owned by the postgres user when we are root, and checks it can be reached. */
export async function preparePostgresDir(
  paths: PostgresPaths,
  port: number,
  profile: ProfileName,
): Promise<void> {
  const socketPath = join(paths.dir, `.s.PGSQL.${port}`);
  if (Buffer.byteLength(socketPath) > maxSocketPathBytes) {
    throw new StackError(
      `the data folder path is too long for PostgreSQL's Unix socket (${socketPath}): choose a shorter KILN_DATA_DIR`,
    );
  }
  await mkdir(paths.dir, { recursive: true });
  if (!isRoot()) return;
  const ids = await Promise.all(['-u', '-g'].map((flag) => run('id', [flag, postgresUser])));
  if (ids.some((id) => id.code !== 0)) {
    throw new StackError(
      `PostgreSQL refuses to run as root and there is no '${postgresUser}' system user: reinstall the Debian package postgresql, or run kiln-stack as a normal user`,
    );
  }
  const [uid, gid] = ids.map((id) => Number(id.stdout.trim())) as [number, number];
  await chown(paths.dir, uid, gid);
  await makeTraversable(dirname(paths.dir));
  await makeTraversable(dirname(dirname(paths.dir)));
  const reachable = await run('runuser', [
    '-u',
    postgresUser,
    '--',
    'test',
    '-w',
    paths.dir,
    '-a',
    '-x',
    paths.dir,
  ]);
  if (reachable.code !== 0) {
    throw new StackError(
      `the ${postgresUser} user cannot reach ${paths.dir} (profile '${profile}'): let every parent folder be entered by others (chmod o+x) or choose another KILN_DATA_DIR`,
    );
  }
}

/** The profile folder and the data root are ours: let the postgres user pass through them. */
async function makeTraversable(dir: string): Promise<void> {
  const { mode } = await stat(dir);
  if ((mode & 0o001) === 0) await chmod(dir, mode | 0o011);
}

export async function initClusterIfNeeded(context: ServiceContext, paths: PostgresPaths): Promise<void> {
  const binVersion = basename(dirname(context.tools.postgresBin));
  const dataVersion = (await readFile(join(paths.data, 'PG_VERSION'), 'utf8').catch(() => undefined))?.trim();
  if (dataVersion !== undefined) {
    if (dataVersion === binVersion) return;
    throw new StackError(
      `${paths.data} holds PostgreSQL ${dataVersion} data but PostgreSQL ${binVersion} is installed: reset the profile (kiln-stack down --profile ${context.profile}, then delete ${context.dir})`,
    );
  }
  context.log(`creating the PostgreSQL ${binVersion} cluster of profile '${context.profile}' (initdb)...`);
  const initdb = join(context.tools.postgresBin, 'initdb');
  const args = ['-D', paths.data, '-U', postgresUser, '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8'];
  await runAsPostgres('initdb', initdb, [...args, '--no-instructions'], paths.dir);
  await appendFile(join(paths.data, 'postgresql.conf'), "\ninclude_if_exists = 'kiln.conf'\n");
}

export async function writeSettings(paths: PostgresPaths, port: number): Promise<void> {
  const file = join(paths.data, 'kiln.conf');
  await writeFile(file, postgresSettings(port, paths.dir));
  if (isRoot()) {
    const owner = await stat(paths.data);
    await chown(file, owner.uid, owner.gid);
  }
}
