import { parseArgs } from 'node:util';
import { StackError } from './errors.ts';
import { defaultProfile, profileNames, toProfileName, type ProfileName } from './profiles.ts';

export const commands = ['install', 'up', 'down', 'status', 'env', 'run', 'help'] as const;
export type CommandName = (typeof commands)[number];

export interface CliArguments {
  command: CommandName;
  profile: ProfileName;
  /** For `run`: the command line to run with the profile's environment. */
  commandLine?: string[];
}

export const usage = `usage: kiln-stack <command> [--profile ${profileNames.join('|')}]

commands:
  install   make sure PostgreSQL, Redis, FerretDB and k6 exist (installs or builds what is missing)
  up        start PostgreSQL, Redis and FerretDB of the profile on 127.0.0.1 (installs first if needed)
  down      stop them
  status    show which of them run (exit 1 when not all do)
  env       print EVENTSTORE_URL, MONGO_URL and REDIS_URL lines for the profile
  run       run a command with the profile's environment: kiln-stack run [--profile P] -- <command...>

The profile defaults to ${defaultProfile}.`;

function isCommandName(value: string): value is CommandName {
  return (commands as readonly string[]).includes(value);
}

export function parseCliArguments(argv: readonly string[]): CliArguments {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { profile: { type: 'string', short: 'p' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new StackError(`${(error as Error).message}\n${usage}`);
  }
  const { positionals, values } = parsed;
  const profile = toProfileName(values.profile ?? defaultProfile);
  if (values.help === true || positionals.length === 0) return { command: 'help', profile };
  const [command, ...extra] = positionals as [string, ...string[]];
  if (!isCommandName(command)) throw new StackError(`unknown command '${command}'\n${usage}`);
  if (command === 'run') {
    if (extra.length === 0)
      throw new StackError(`run needs a command: kiln-stack run -- <command...>\n${usage}`);
    return { command, profile, commandLine: extra };
  }
  if (extra.length > 0) throw new StackError(`unexpected argument '${extra.join(' ')}'\n${usage}`);
  return { command, profile };
}
