import { join } from 'node:path';
import { run, type RunResult } from './process.ts';

const cliPath = join(import.meta.dirname, 'cli.ts');

/**
 * Runs `kiln-stack <args>` as a user would, in a process of its own, on the Node running this one
 * (Node 24: the machine's own may be older). For tests.
 */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return run(process.execPath, [cliPath, ...args], { env, timeoutMs: 600_000 });
}
