import {
  isProfileName,
  isScenarioName,
  scenarioNames,
  type ProfileName,
  type ScenarioName,
} from '#k6/lib/profiles.ts';

export type LoadArgs = { scenarios: ScenarioName[]; profile: ProfileName };

export const usage = `npm run load [-- [commands] [fanout] [replay] [audit] [--profile full|smoke]]
  scenarios: any of ${scenarioNames.join(', ')} (all, in that order, when none is named)
  --profile: full (the default; about four minutes) or smoke (a few seconds a scenario)
  against another deployment: set KILN_COMMAND_URL, KILN_QUERY_URL, KILN_HUB_URL and KILN_ADMIN_TOKEN`;

export class UsageError extends Error {}

/** `npm run load -- <scenario…> [--profile P]`; the profile also comes from KILN_LOAD_PROFILE. */
export const parseArgs = (argv: string[], env: NodeJS.ProcessEnv = process.env): LoadArgs => {
  const scenarios: ScenarioName[] = [];
  let profile = env['KILN_LOAD_PROFILE'] || 'full';
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index] ?? '';
    if (arg === '--profile' || arg.startsWith('--profile=')) {
      profile = arg.includes('=') ? arg.slice('--profile='.length) : (argv[++index] ?? '');
    } else if (isScenarioName(arg)) {
      if (!scenarios.includes(arg)) scenarios.push(arg);
    } else {
      throw new UsageError(`unknown argument '${arg}'`);
    }
  }
  if (!isProfileName(profile)) throw new UsageError(`unknown profile '${profile}'`);
  // Always in the order of the design: the audit last, over what the others left.
  const chosen =
    scenarios.length === 0 ? [...scenarioNames] : scenarioNames.filter((name) => scenarios.includes(name));
  return { scenarios: chosen, profile };
};

export type ExternalTarget = { commandUrl: string; queryUrl: string; hubUrl: string; adminToken: string };

const targetVariables = ['KILN_COMMAND_URL', 'KILN_QUERY_URL', 'KILN_HUB_URL', 'KILN_ADMIN_TOKEN'] as const;

/** A deployment to load instead of a local one: all four variables, or none. */
export const externalTarget = (env: NodeJS.ProcessEnv = process.env): ExternalTarget | undefined => {
  const set = targetVariables.filter((name) => env[name]);
  if (set.length === 0) return undefined;
  if (set.length < targetVariables.length)
    throw new UsageError(
      `set all of ${targetVariables.join(', ')} to load another deployment (missing: ${targetVariables.filter((name) => !env[name]).join(', ')})`,
    );
  return {
    commandUrl: env['KILN_COMMAND_URL'] ?? '',
    queryUrl: env['KILN_QUERY_URL'] ?? '',
    hubUrl: env['KILN_HUB_URL'] ?? '',
    adminToken: env['KILN_ADMIN_TOKEN'] ?? '',
  };
};
