import type { z } from 'zod';

type Env = Record<string, string | undefined>;

export type ConfigResult<Config> = { ok: true; config: Readonly<Config> } | { ok: false; message: string };

/** `FOO=` in a .env file means "not set": an empty variable counts as missing, so defaults apply. */
const withoutEmptyValues = (env: Env): Env =>
  Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));

const describeIssue = (issue: z.core.$ZodIssue, env: Env): string => {
  const variable = issue.path[0];
  const missing =
    typeof variable === 'string' && env[variable] === undefined && issue.code === 'invalid_type';
  return missing ? 'required' : issue.message;
};

/** One line naming every wrong variable: `KILN config: PORT: expected ...; DATABASE_URL: required`. */
const describeIssues = (issues: readonly z.core.$ZodIssue[], env: Env): string => {
  const byVariable = new Map<string, string[]>();
  for (const issue of issues) {
    const variable = issue.path.map(String).join('.') || '(env)';
    const problems = byVariable.get(variable) ?? [];
    problems.push(describeIssue(issue, env));
    byVariable.set(variable, problems);
  }
  const parts = [...byVariable].map(
    ([variable, problems]) => `${variable}: ${[...new Set(problems)].join(', ')}`,
  );
  return `KILN config: ${parts.join('; ')}`;
};

/** Parses the environment with the service's schema: a frozen, typed config, or one message for a person. */
export function parseConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: Env = process.env,
): ConfigResult<z.output<Schema>> {
  const present = withoutEmptyValues(env);
  const result = schema.safeParse(present);
  if (!result.success) return { ok: false, message: describeIssues(result.error.issues, present) };
  return { ok: true, config: Object.freeze(result.data) };
}

/**
 * Parses the environment once, at start-up (in main.ts). A wrong environment is a person's mistake, not a
 * crash: it prints one line naming every wrong variable, without a stack trace, and exits with status 1.
 */
export function loadConfig<Schema extends z.ZodType>(
  schema: Schema,
  env: Env = process.env,
): Readonly<z.output<Schema>> {
  const result = parseConfig(schema, env);
  if (result.ok) return result.config;
  process.stderr.write(`${result.message}\n`);
  process.exit(1);
}
