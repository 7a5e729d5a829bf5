import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { profileUrls, testEnv } from '@kiln/stack/testing';
import { createIdentityStore, type IdentityStore, type IdentityStoreOptions } from '#src/identityStore.ts';

/** The PostgreSQL server of the integration tests: EVENTSTORE_URL when set, else the test stack's. */
export const postgresTestUrl = (): string => testEnv().eventStoreUrl;

export const needsTestStack = (): boolean => postgresTestUrl() === profileUrls('test').eventStoreUrl;

export type IsolatedIdentity = {
  schema: string;
  identity: IdentityStore;
  /** A plain connection to look at the tables (and to age sessions) behind the store's back. */
  admin: pg.Client;
  dispose(): Promise<void>;
};

/** An identity store in a schema of its own, dropped by `dispose`. */
export async function openIsolatedIdentity(
  options: Omit<IdentityStoreOptions, 'connectionString' | 'schema'> = {},
): Promise<IsolatedIdentity> {
  const url = postgresTestUrl();
  const schema = `identity_test_${randomBytes(6).toString('hex')}`;
  const identity = await createIdentityStore({ connectionString: url, schema, ...options });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  return {
    schema,
    identity,
    admin,
    dispose: async () => {
      await identity.close();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

let counter = 0;
/** A fresh address per call, so tests in one schema never collide. */
export const uniqueEmail = (name = 'user'): string => `${name}.${process.pid}.${++counter}@example.com`;
