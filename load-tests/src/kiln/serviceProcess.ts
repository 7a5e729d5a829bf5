import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '#src/paths.ts';

export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer()
      .once('error', reject)
      .listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
  });

export type ServiceProcess = {
  name: string;
  url: string;
  pid: number | undefined;
  stop: () => Promise<void>;
};

/**
 * One of Kiln's services in its own process, as `npm start` runs it (`node <script>` in its workspace),
 * its output kept in `logFile`; resolves once `readyPath` answers 200.
 */
export const startServiceProcess = async (options: {
  name: string;
  workspace: string;
  script: string;
  port: number;
  env: Record<string, string>;
  readyPath: string;
  logFile: string;
}): Promise<ServiceProcess> => {
  const url = `http://127.0.0.1:${options.port}`;
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const child: ChildProcess = spawn(process.execPath, [options.script], {
    cwd: join(repoRoot, options.workspace),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let failed = false;
  child.once('error', (error) => {
    failed = true;
    log.write(`${options.name} could not be started: ${error.message}\n`);
  });
  for (let tries = 0; ; tries += 1) {
    const answer = await fetch(`${url}${options.readyPath}`).catch(() => undefined);
    if (answer?.ok) break;
    if (failed || child.exitCode !== null || tries > 600)
      throw new Error(`${options.name} did not start (see ${options.logFile})`);
    await sleep(100);
  }
  return {
    name: options.name,
    url,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(killer);
      }
      log.end();
    },
  };
};
