import { profileUrls, type ProfileName, type StackUrls } from './profiles.ts';
import { up } from './stack.ts';
import type { PathOptions } from './paths.ts';
import type { Logger } from './log.ts';

export { profileUrls, type ProfileName, type StackUrls };

/**
 * Brings the profile's stack up (building missing tools first) and returns its URLs. Idempotent and
 * serialized by lock files, so several test processes may call it at once, e.g. from vitest's globalSetup.
 * It never stops the stack: `kiln-stack down --profile test` does.
 */
export async function ensureStack(
  profile: ProfileName = 'test',
  options: PathOptions & { log?: Logger | undefined } = {},
): Promise<StackUrls> {
  return (await up({ ...options, profile })).urls;
}

/** The URLs the tests should use: EVENTSTORE_URL, MONGO_URL and REDIS_URL when set, else the test profile's. */
export function testEnv(env: NodeJS.ProcessEnv = process.env): StackUrls {
  const fallback = profileUrls('test');
  return {
    eventStoreUrl: env['EVENTSTORE_URL'] || fallback.eventStoreUrl,
    mongoUrl: env['MONGO_URL'] || fallback.mongoUrl,
    redisUrl: env['REDIS_URL'] || fallback.redisUrl,
  };
}
