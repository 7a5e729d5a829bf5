import { StackError } from './errors.ts';
import { ferretdb } from './ferretdb.ts';
import { portTakenMessage } from './lifecycle.ts';
import { isPortFree } from './net.ts';
import { withLock } from './lock.ts';
import { stderrLogger, type Logger } from './log.ts';
import { profileDir, resolvePaths, type PathOptions, type StackPaths } from './paths.ts';
import { postgres } from './postgres.ts';
import { profilePorts, profileUrls, type ProfileName, type StackUrls } from './profiles.ts';
import { redis } from './redis.ts';
import type { ServiceContext, ServiceName, ServiceStatus, StartedService, StopContext } from './service.ts';
import { installTools, locateTools, type Tools } from './tools.ts';

export interface StackOptions extends PathOptions {
  profile: ProfileName;
  log?: Logger | undefined;
}

export interface UpResult {
  profile: ProfileName;
  urls: StackUrls;
  services: StartedService[];
}

export interface StoppedService {
  name: ServiceName;
  wasRunning: boolean;
}

/** In start order: FerretDB stores its data in PostgreSQL. */
const services = [postgres, redis, ferretdb] as const;

function contextFor<ToolSet>(
  options: StackOptions,
  paths: StackPaths,
  tools: ToolSet,
): ServiceContext<ToolSet> {
  return {
    profile: options.profile,
    ports: profilePorts(options.profile),
    dir: profileDir(paths, options.profile),
    tools,
    log: options.log ?? stderrLogger,
  };
}

/** Makes sure every tool exists, one installer at a time per tools folder (Chromium when `browser`). */
export async function install(
  options: PathOptions & { log?: Logger | undefined; browser?: boolean } = {},
): Promise<Tools> {
  const { toolsDir } = resolvePaths(options);
  return withLock(toolsDir, 'install', () =>
    installTools(toolsDir, options.log ?? stderrLogger, { browser: options.browser ?? false }),
  );
}

/** Starts whatever of the profile is not running yet (installing missing tools first); idempotent. */
export async function up(options: StackOptions): Promise<UpResult> {
  const paths = resolvePaths(options);
  // The test profile's users include the web app's end-to-end tests, which need a browser.
  const tools = await install({ ...options, browser: options.profile === 'test' });
  const context = contextFor(options, paths, tools);
  const started = await withLock(context.dir, 'stack', async () => {
    await checkPortsFree(context);
    const list: StartedService[] = [];
    for (const service of services) list.push(await service.start(context));
    return list;
  });
  return { profile: options.profile, urls: profileUrls(options.profile), services: started };
}

/** Fails before starting anything when a port of a server that is not running is taken by someone else. */
async function checkPortsFree(context: ServiceContext): Promise<void> {
  for (const service of services) {
    if ((await service.status(context)).pid !== undefined) continue;
    for (const port of service.ports(context.ports)) {
      if (!(await isPortFree(port)))
        throw new StackError(portTakenMessage(service.name, port, context.profile));
    }
  }
}

/** Stops the profile's servers, last started first; harmless when they are already down. */
export async function down(options: StackOptions): Promise<StoppedService[]> {
  const paths = resolvePaths(options);
  const context: StopContext = contextFor(options, paths, await locateTools(paths.toolsDir));
  return withLock(context.dir, 'stack', async () => {
    const stopped: StoppedService[] = [];
    for (const service of [...services].reverse()) {
      stopped.push({ name: service.name, wasRunning: await service.stop(context) });
    }
    return stopped.reverse();
  });
}

export async function status(options: StackOptions): Promise<ServiceStatus[]> {
  const paths = resolvePaths(options);
  const context: StopContext = contextFor(options, paths, await locateTools(paths.toolsDir));
  return Promise.all(services.map((service) => service.status(context)));
}
