import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';

export interface RunOptions {
  cwd?: string | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  timeoutMs?: number | undefined;
}

export interface RunResult {
  code: number | null;
  /** stdout and stderr interleaved as they came. */
  output: string;
  stdout: string;
}

/** Runs a command to its end, collecting its output (never throws for a non-zero exit). */
export function run(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
    });
    let output = '';
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new StackError(`cannot run ${command}: command not found`) : error),
    );
    child.once('close', (code) => resolve({ code, output, stdout }));
  });
}

/** Runs a command and turns a failure into a StackError carrying the end of its output. */
export async function runChecked(
  what: string,
  command: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new StackError(`${what} failed (exit ${String(result.code)}):\n${lastLines(result.output, 25)}`);
  }
  return result;
}

export interface DetachedOptions {
  logFile: string;
  pidFile: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Starts a long-running server that outlives this process; its output goes to logFile. */
export async function spawnDetached(
  command: string,
  args: readonly string[],
  options: DetachedOptions,
): Promise<number> {
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', log, log],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new StackError(`${command} started without a pid`);
    await writeFile(options.pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(log);
  }
}

export async function readPidFile(file: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  const pid = Number.parseInt(text?.split('\n')[0] ?? '', 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * True when pid is alive and its command line contains every mark (the data folder, the port...),
 * so a pid reused by an unrelated process after a reboot is not mistaken for our server.
 */
export async function isProcessWith(pid: number, marks: readonly string[]): Promise<boolean> {
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const text = cmdline.replaceAll('\0', ' ');
  return text.trim() !== '' && marks.every((mark) => text.includes(mark));
}

/** The pid from a pid file when that process is still our server (see isProcessWith). */
export async function livePid(pidFile: string, marks: readonly string[]): Promise<number | undefined> {
  const pid = await readPidFile(pidFile);
  return pid !== undefined && (await isProcessWith(pid, marks)) ? pid : undefined;
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Stop waiting early (and fail) as soon as this says the server is gone. */
  stillRunning?: () => Promise<boolean>;
}

export async function waitFor(check: () => Promise<boolean>, options: WaitOptions): Promise<boolean> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (options.stillRunning !== undefined && !(await options.stillRunning())) return false;
    if (Date.now() >= deadline) return false;
    await sleep(options.intervalMs ?? 200);
  }
}

/** SIGTERM, wait for the exit, SIGKILL if it takes longer than timeoutMs. */
export async function stopProcess(pid: number, marks: readonly string[], timeoutMs = 15_000): Promise<void> {
  const gone = async () => !(await isProcessWith(pid, marks));
  signal(pid, 'SIGTERM');
  if (await waitFor(gone, { timeoutMs, intervalMs: 100 })) return;
  signal(pid, 'SIGKILL');
  if (!(await waitFor(gone, { timeoutMs: 5_000, intervalMs: 100 }))) {
    throw new StackError(`process ${pid} did not exit after SIGKILL`);
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function tailFile(file: string, lines = 20): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return lastLines(text, lines) || '(empty)';
}

export function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
