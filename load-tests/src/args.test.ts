import { describe, expect, it } from 'vitest';
import { externalTarget, parseArgs, UsageError } from '#src/args.ts';

describe('npm run load -- <scenario…> [--profile P]', () => {
  it('runs every scenario, the audit last, at full size by default', () => {
    expect(parseArgs([], {})).toEqual({
      scenarios: ['commands', 'fanout', 'replay', 'audit'],
      profile: 'full',
    });
  });

  it('runs the scenarios named, in the order of the design, at the profile asked for', () => {
    expect(parseArgs(['audit', 'fanout', '--profile', 'smoke'], {})).toEqual({
      scenarios: ['fanout', 'audit'],
      profile: 'smoke',
    });
    expect(parseArgs(['replay', '--profile=smoke'], {})).toEqual({ scenarios: ['replay'], profile: 'smoke' });
    expect(parseArgs(['commands'], { KILN_LOAD_PROFILE: 'smoke' }).profile).toBe('smoke');
  });

  it('refuses what it does not know', () => {
    expect(() => parseArgs(['fanoot'], {})).toThrow(UsageError);
    expect(() => parseArgs(['--profile', 'huge'], {})).toThrow(/unknown profile 'huge'/);
  });

  it('loads another deployment when all four of its variables are set, and only then', () => {
    const env = {
      KILN_COMMAND_URL: 'https://api.kiln.example',
      KILN_QUERY_URL: 'https://read.kiln.example',
      KILN_HUB_URL: 'https://live.kiln.example',
      KILN_ADMIN_TOKEN: 'kiln_admin',
    };
    expect(externalTarget({})).toBeUndefined();
    expect(externalTarget(env)).toEqual({
      commandUrl: env.KILN_COMMAND_URL,
      queryUrl: env.KILN_QUERY_URL,
      hubUrl: env.KILN_HUB_URL,
      adminToken: env.KILN_ADMIN_TOKEN,
    });
    expect(() => externalTarget({ ...env, KILN_ADMIN_TOKEN: '' })).toThrow(/missing: KILN_ADMIN_TOKEN/);
  });
});
