#!/usr/bin/env node
// `npm run load [-- <scenario…>] [--profile full|smoke]`: see load-tests/README.md.
import { parseArgs, usage, UsageError } from '#src/args.ts';
import { screenOf } from '#src/results/runResult.ts';
import { runLoad } from '#src/runLoad.ts';

try {
  const args = parseArgs(process.argv.slice(2));
  const result = await runLoad({
    ...args,
    onStart: (interrupt) =>
      process.once('SIGINT', () => {
        process.stderr.write('\ninterrupted: stopping k6 and Kiln…\n');
        interrupt();
      }),
  });
  process.stdout.write(screenOf(result));
  process.exitCode = result.passed ? 0 : 1;
} catch (error) {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n\n${usage}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(
      `the load test could not run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}
