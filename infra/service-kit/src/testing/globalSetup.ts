import { ensureStack } from '@kiln/stack/testing';

/** The integration tests use the test profile's Redis, unless REDIS_URL names one. */
export default async function setup(): Promise<void> {
  if (!process.env['REDIS_URL']) await ensureStack('test');
}
