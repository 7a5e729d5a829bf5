import { ensureStack } from '@kiln/stack/testing';

/** The smoke run loads a Kiln of its own on the local stack's test profile (and k6, which it builds). */
export default async function setup(): Promise<void> {
  await ensureStack('test');
}
