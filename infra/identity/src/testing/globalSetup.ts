import { ensureStack } from '@kiln/stack/testing';
import { needsTestStack } from '#src/testing/isolatedIdentity.ts';

/** The integration tests run against the test profile of the local stack, unless EVENTSTORE_URL names one. */
export default async function setup(): Promise<void> {
  if (needsTestStack()) await ensureStack('test');
}
