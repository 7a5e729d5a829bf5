import { chmod, cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { StackError } from './errors.ts';
import { isGoRecentEnough, missingGoMessage, parseGoVersion, type GoProgram } from './go-programs.ts';
import type { Logger } from './log.ts';
import { run, runChecked } from './process.ts';
import { isExecutable, which } from './system.ts';

export function toolBinary(toolsDir: string, program: GoProgram): string {
  return join(toolsDir, 'bin', program.binary);
}

/** True when the tools folder holds a binary that runs and reports the wanted version. */
export async function isBuilt(toolsDir: string, program: GoProgram): Promise<boolean> {
  const binary = toolBinary(toolsDir, program);
  if (!(await isExecutable(binary))) return false;
  const result = await run(binary, program.versionArgs, { timeoutMs: 15_000 }).catch(() => undefined);
  return result?.code === 0 && result.output.includes(program.version);
}

/** Go's module and build caches live in the tools folder, so a second build is quick. */
export function goEnvironment(toolsDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOMODCACHE: join(toolsDir, 'go/mod'),
    GOCACHE: join(toolsDir, 'go/cache'),
    GOFLAGS: `${process.env['GOFLAGS'] ?? ''} -modcacherw -buildvcs=false`.trim(),
    GOWORK: 'off',
    GO111MODULE: 'on',
  };
}

async function requireGo(program: GoProgram): Promise<string> {
  const go = await which('go', ['/usr/local/go/bin', '/usr/lib/go/bin']);
  if (go === undefined) throw new StackError(missingGoMessage(program));
  const { output } = await run(go, ['version']);
  const version = parseGoVersion(output);
  if (version === undefined || !isGoRecentEnough(version, program.minGo)) {
    throw new StackError(missingGoMessage(program, `${output.trim()} at ${go}`));
  }
  return go;
}

/**
 * `go install module@version` needs the proxy's version list (to check deprecation), which this
 * environment may refuse; downloading the one version and building its source works everywhere.
 */
export async function buildGoProgram(toolsDir: string, program: GoProgram, log: Logger): Promise<string> {
  const go = await requireGo(program);
  const env = goEnvironment(toolsDir);
  const binary = toolBinary(toolsDir, program);
  const sourceDir = join(toolsDir, 'src', program.binary);
  const moduleAtVersion = `${program.module}@${program.version}`;
  log(`building ${program.title} ${program.version} with Go (${program.coldBuildTime} on a cold cache)...`);
  await mkdir(join(toolsDir, 'bin'), { recursive: true });

  const download = await runChecked(
    `go mod download ${moduleAtVersion}`,
    go,
    ['mod', 'download', '-json', moduleAtVersion],
    {
      env,
      cwd: toolsDir,
    },
  );
  const moduleDir = (JSON.parse(download.stdout) as { Dir?: string }).Dir;
  if (moduleDir === undefined)
    throw new StackError(`go mod download ${moduleAtVersion} did not say where the source is`);

  await rm(sourceDir, { recursive: true, force: true });
  await cp(moduleDir, sourceDir, { recursive: true });
  await makeOwnerWritable(sourceDir);
  await program.prepareSource?.(sourceDir);

  const partial = `${binary}.partial`;
  await withHeartbeat(log, `still building ${program.title}`, () =>
    runChecked(`go build ${program.title}`, go, ['build', '-o', partial, program.packagePath], {
      env,
      cwd: sourceDir,
    }),
  );
  await rename(partial, binary);
  if (!(await isBuilt(toolsDir, program))) {
    throw new StackError(`${binary} was built but does not report version ${program.version}`);
  }
  log(`built ${program.title} ${program.version}: ${binary}`);
  return binary;
}

/** The module cache hands out read-only files; the copy must be ours to edit and delete. */
async function makeOwnerWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isSymbolicLink()) continue;
    const path = join(entry.parentPath, entry.name);
    await chmod(path, (await stat(path)).mode | 0o200);
  }
}

async function withHeartbeat<T>(log: Logger, message: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const timer = setInterval(
    () => log(`${message} (${Math.round((Date.now() - started) / 1000)} s)...`),
    20_000,
  );
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
