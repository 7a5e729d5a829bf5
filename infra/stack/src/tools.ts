import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { installDebianPackage } from './debian.ts';
import { StackError } from './errors.ts';
import { buildGoProgram, isBuilt, toolBinary } from './go-build.ts';
import { ferretdbProgram, k6Program, type GoProgram } from './go-programs.ts';
import type { Logger } from './log.ts';
import { isExecutable, which } from './system.ts';

export interface Tools {
  /** Debian's PostgreSQL binaries, e.g. /usr/lib/postgresql/15/bin */
  postgresBin: string;
  redisServer: string;
  ferretdb: string;
  k6: string;
  /** Debian's Chromium, for the web app's end-to-end tests; installed only when asked for. */
  chromium?: string | undefined;
}

const debianPostgresRoot = '/usr/lib/postgresql';

/** The newest PostgreSQL that Debian's packages installed, if any. */
export async function findPostgresBin(): Promise<string | undefined> {
  const versions = await readdir(debianPostgresRoot).catch(() => [] as string[]);
  const newestFirst = versions.filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  for (const version of newestFirst) {
    const bin = join(debianPostgresRoot, version, 'bin');
    const complete = await Promise.all(
      ['initdb', 'pg_ctl', 'postgres'].map((name) => isExecutable(join(bin, name))),
    );
    if (complete.every(Boolean)) return bin;
  }
  return undefined;
}

export function findChromium(): Promise<string | undefined> {
  return which('chromium', ['/usr/bin']);
}

export function findRedisServer(): Promise<string | undefined> {
  return which('redis-server', ['/usr/bin', '/usr/sbin']);
}

export type LocatedTools = { [Name in keyof Tools]: Tools[Name] | undefined };

/** The tools as they are now, without installing anything (for status and down). */
export async function locateTools(toolsDir: string): Promise<LocatedTools> {
  const [postgresBin, redisServer, ferretdb, k6, chromium] = await Promise.all([
    findPostgresBin(),
    findRedisServer(),
    builtBinary(toolsDir, ferretdbProgram),
    builtBinary(toolsDir, k6Program),
    findChromium(),
  ]);
  return { postgresBin, redisServer, ferretdb, k6, chromium };
}

/**
 * Makes sure every tool exists: Debian packages when missing, Go builds into the tools folder; Chromium
 * too when `browser` (the tests drive the web app in it; running Kiln does not need it).
 */
export async function installTools(
  toolsDir: string,
  log: Logger,
  options: { browser?: boolean } = {},
): Promise<Tools> {
  const postgresBin = await ensureDebianTool(findPostgresBin, 'postgresql', 'PostgreSQL', log);
  const redisServer = await ensureDebianTool(findRedisServer, 'redis-server', 'Redis (redis-server)', log);
  const ferretdb = await ensureGoTool(toolsDir, ferretdbProgram, log);
  const k6 = await ensureGoTool(toolsDir, k6Program, log);
  const chromium = options.browser
    ? await ensureDebianTool(findChromium, 'chromium', 'Chromium (for the web tests)', log)
    : await findChromium();
  return { postgresBin, redisServer, ferretdb, k6, chromium };
}

async function ensureDebianTool(
  find: () => Promise<string | undefined>,
  debianPackage: string,
  what: string,
  log: Logger,
): Promise<string> {
  const found = await find();
  if (found !== undefined) return found;
  await installDebianPackage(debianPackage, what, log);
  const installed = await find();
  if (installed === undefined)
    throw new StackError(`${what} is still missing after installing ${debianPackage}`);
  return installed;
}

async function ensureGoTool(toolsDir: string, program: GoProgram, log: Logger): Promise<string> {
  return (await builtBinary(toolsDir, program)) ?? buildGoProgram(toolsDir, program, log);
}

async function builtBinary(toolsDir: string, program: GoProgram): Promise<string | undefined> {
  return (await isBuilt(toolsDir, program)) ? toolBinary(toolsDir, program) : undefined;
}
