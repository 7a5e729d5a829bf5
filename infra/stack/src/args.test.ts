import { describe, expect, it } from 'vitest';
import { parseCliArguments } from './args.ts';
import { StackError } from './errors.ts';

describe('parseCliArguments', () => {
  it('defaults to the dev profile', () => {
    expect(parseCliArguments(['up'])).toEqual({ command: 'up', profile: 'dev' });
  });

  it.each([[['down', '--profile', 'test']], [['down', '--profile=test']], [['-p', 'test', 'down']]])(
    'reads the profile from %j',
    (argv) => {
      expect(parseCliArguments(argv)).toEqual({ command: 'down', profile: 'test' });
    },
  );

  it('shows help for no command or --help', () => {
    expect(parseCliArguments([]).command).toBe('help');
    expect(parseCliArguments(['up', '--help']).command).toBe('help');
  });

  it.each([
    [['start'], "unknown command 'start'"],
    [['up', '--profile', 'prod'], "unknown profile 'prod'"],
    [['up', '--verbose'], "Unknown option '--verbose'"],
    [['up', 'now'], "unexpected argument 'now'"],
  ])('rejects %j with a message', (argv, message) => {
    expect(() => parseCliArguments(argv)).toThrow(StackError);
    expect(() => parseCliArguments(argv)).toThrow(message);
  });
});

describe('kiln-stack run', () => {
  it('takes the command line after --', () => {
    expect(
      parseCliArguments(['run', '--profile', 'test', '--', 'turbo', 'run', 'start', '--filter', 'x']),
    ).toEqual({
      command: 'run',
      profile: 'test',
      commandLine: ['turbo', 'run', 'start', '--filter', 'x'],
    });
  });

  it('needs a command to run', () => {
    expect(() => parseCliArguments(['run'])).toThrow(/run needs a command/);
  });
});
