#!/usr/bin/env node
import { parseCliArguments, usage, type CliArguments } from './args.ts';
import { StackError } from './errors.ts';
import { envLines, profileUrls } from './profiles.ts';
import { runWithProfile } from './run.ts';
import { down, install, status, up } from './stack.ts';

/** Everything on stdout is shell-sourceable: `#` comments and KEY=value lines. Progress goes to stderr. */
function print(lines: readonly string[]): void {
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runCommand({ command, profile, commandLine }: CliArguments): Promise<number> {
  switch (command) {
    case 'help':
      print([usage]);
      return 0;
    case 'install': {
      const tools = await install({ browser: true });
      print([
        `# postgresql: ${tools.postgresBin}`,
        `# redis-server: ${tools.redisServer}`,
        `# ferretdb: ${tools.ferretdb}`,
        `# k6: ${tools.k6}`,
        `# chromium: ${tools.chromium ?? 'missing'}`,
      ]);
      return 0;
    }
    case 'up': {
      const result = await up({ profile });
      const where = result.services.map(
        (service) =>
          `# ${service.name.padEnd(8)} listens on ${service.address} (pid ${service.pid}, ${service.reused ? 'already running' : 'started'})`,
      );
      print([...where, ...envLines(result.urls)]);
      return 0;
    }
    case 'down': {
      const stopped = await down({ profile });
      print(
        stopped.map(
          (service) => `# ${service.name.padEnd(8)} ${service.wasRunning ? 'stopped' : 'was not running'}`,
        ),
      );
      return 0;
    }
    case 'status': {
      const services = await status({ profile });
      print(
        services.map(
          (service) =>
            `# ${service.name.padEnd(8)} ${service.pid === undefined ? 'stopped' : `running on ${service.address} (pid ${service.pid})`}`,
        ),
      );
      return services.every((service) => service.pid !== undefined) ? 0 : 1;
    }
    case 'env':
      print(envLines(profileUrls(profile)));
      return 0;
    case 'run':
      return runWithProfile(profile, commandLine ?? []);
  }
}

try {
  process.exitCode = await runCommand(parseCliArguments(process.argv.slice(2)));
} catch (error) {
  if (!(error instanceof StackError)) throw error;
  process.stderr.write(`kiln-stack: ${error.message}\n`);
  process.exitCode = 1;
}
