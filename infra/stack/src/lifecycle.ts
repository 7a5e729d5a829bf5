import { rm } from 'node:fs/promises';
import { StackError } from './errors.ts';
import { isPortFree } from './net.ts';
import { livePid, tailFile, waitFor } from './process.ts';
import { HOST, type ProfileName } from './profiles.ts';
import type { ServiceContext, ServiceName, StartedService } from './service.ts';

/** What the shared start sequence needs to know about one server. */
export interface Lifecycle {
  name: ServiceName;
  port: number;
  /** Every port it will listen on; all must be free before it starts. */
  ports: readonly number[];
  pidFile: string;
  /** Parts of its command line that tell our process from a stranger that got the same pid. */
  marks: readonly string[];
  logFile: string;
  startTimeoutMs: number;
  answers: () => Promise<boolean>;
  launch: () => Promise<void>;
  /** False once a freshly launched server is known to be dead, to stop waiting for it early. */
  launchedAlive?: () => Promise<boolean>;
}

export function portTakenMessage(name: ServiceName, port: number, profile: ProfileName): string {
  return `port ${port} is already taken by another process, so ${name} of profile '${profile}' cannot listen on ${HOST}:${port}: stop whatever listens there (ss -ltnp 'sport = :${port}') and run again`;
}

/** Reuses the server when it is ours, alive and answering; otherwise starts it and waits until it answers. */
export async function startOnce(context: ServiceContext, server: Lifecycle): Promise<StartedService> {
  const address = `${HOST}:${server.port}`;
  const started = (pid: number, reused: boolean): StartedService => ({
    name: server.name,
    address,
    pid,
    reused,
    logFile: server.logFile,
  });

  const running = await livePid(server.pidFile, server.marks);
  if (running !== undefined) {
    if (await waitFor(server.answers, { timeoutMs: 15_000 })) return started(running, true);
    throw new StackError(
      `${server.name} of profile '${context.profile}' (pid ${running}) runs but does not answer on ${address}; ${await logTail(server)}`,
    );
  }

  await rm(server.pidFile, { force: true });
  for (const port of server.ports) {
    if (!(await isPortFree(port))) throw new StackError(portTakenMessage(server.name, port, context.profile));
  }

  context.log(`starting ${server.name} on ${address}...`);
  try {
    await server.launch();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StackError(
      `${server.name} of profile '${context.profile}' did not start: ${reason}\n${await logTail(server)}`,
    );
  }
  const answered = await waitFor(server.answers, {
    timeoutMs: server.startTimeoutMs,
    ...(server.launchedAlive && { stillRunning: server.launchedAlive }),
  });
  const pid = answered ? await waitForPid(server) : undefined;
  if (pid === undefined) {
    throw new StackError(
      `${server.name} of profile '${context.profile}' did not answer on ${address} within ${server.startTimeoutMs / 1000} s; ${await logTail(server)}`,
    );
  }
  return started(pid, false);
}

async function waitForPid(server: Lifecycle): Promise<number | undefined> {
  let pid: number | undefined;
  await waitFor(async () => (pid = await livePid(server.pidFile, server.marks)) !== undefined, {
    timeoutMs: 5_000,
  });
  return pid;
}

async function logTail(server: Lifecycle): Promise<string> {
  return `last lines of ${server.logFile}:\n${await tailFile(server.logFile)}`;
}
