import { ensureStack } from '@kiln/stack/testing';
import { buildWeb } from './studioStack.ts';

/** The end-to-end tests run the services against the local stack's test profile, on one build of the app. */
export default async function setup(): Promise<void> {
  if (!process.env['EVENTSTORE_URL'] || !process.env['REDIS_URL'] || !process.env['MONGO_URL']) {
    await ensureStack('test');
  }
  await buildWeb();
}
