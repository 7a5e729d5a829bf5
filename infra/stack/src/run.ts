import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { resolvePaths, profileDir } from './paths.ts';
import { profileUrls, type ProfileName } from './profiles.ts';

/** Where each profile's service settings live (`infra/stack/env/<profile>.env`), if it has any. */
const settingsFile = (profile: ProfileName) => join(import.meta.dirname, '..', 'env', `${profile}.env`);

/**
 * The environment a service of the profile runs with: the stack's URLs, a media folder in the profile's
 * data folder, and the profile's settings file; anything already set in the environment wins.
 */
export const profileEnvironment = (
  profile: ProfileName,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv => {
  const urls = profileUrls(profile);
  const mediaDir = join(profileDir(resolvePaths(), profile), 'media');
  mkdirSync(mediaDir, { recursive: true });
  const file = settingsFile(profile);
  const settings = existsSync(file) ? parseEnv(readFileSync(file, 'utf8')) : {};
  return {
    EVENTSTORE_URL: urls.eventStoreUrl,
    MONGO_URL: urls.mongoUrl,
    REDIS_URL: urls.redisUrl,
    MEDIA_DIR: mediaDir,
    MEDIA_STORE: join(mediaDir, 'artifacts'),
    ...settings,
    ...env,
  };
};

/** Runs a command with the profile's environment; resolves with its exit code. Ctrl-C reaches it. */
export const runWithProfile = (profile: ProfileName, commandLine: string[]): Promise<number> =>
  new Promise((resolve, reject) => {
    const [command, ...args] = commandLine as [string, ...string[]];
    const child = spawn(command, args, { stdio: 'inherit', env: profileEnvironment(profile) });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    process.on('SIGINT', forward('SIGINT'));
    process.on('SIGTERM', forward('SIGTERM'));
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
