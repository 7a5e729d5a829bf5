import { ensureStack } from '@kiln/stack/testing';

/** The integration tests run against the local stack's test profile (PostgreSQL, Redis). */
export default async function setup(): Promise<void> {
  if (!process.env['EVENTSTORE_URL'] || !process.env['REDIS_URL']) await ensureStack('test');
}
