import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { createLogger } from '@kiln/service-kit/logger';
import { serve } from '@kiln/service-kit/server';
import { testEnv } from '@kiln/stack/testing';
import { QueryServiceConfig } from '#src/config.ts';
import { createQueryService } from '#src/service.ts';

/** The test stack's FerretDB URL with a database of its own. */
export const mongoUrlWithDatabase = (database: string): string => {
  const url = new URL(testEnv().mongoUrl);
  url.pathname = `/${database}`;
  return url.toString();
};

/**
 * A real query service on a free port over the event store schema and the users of a command service
 * under test, with read models in a database of its own.
 */
export const startQueryService = async (
  schemas: { eventStoreSchema: string; identitySchema: string },
  overrides: Record<string, string> = {},
) => {
  const database = `kiln_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const config = QueryServiceConfig.parse({
    EVENTSTORE_URL: testEnv().eventStoreUrl,
    EVENTSTORE_SCHEMA: schemas.eventStoreSchema,
    IDENTITY_SCHEMA: schemas.identitySchema,
    MONGO_URL: mongoUrlWithDatabase(database),
    LOG_LEVEL: 'warn',
    ...overrides,
  });
  const logger = createLogger({ service: 'query-service', level: config.LOG_LEVEL });
  const service = await createQueryService(config, logger);
  const serving = await serve(service.app, { port: 0, logger });
  const get = async (path: string, cookie = '') => {
    const response = await fetch(`${serving.url}${path}`, { headers: cookie ? { cookie } : {} });
    return { status: response.status, body: (await response.json()) as any, headers: response.headers };
  };
  return {
    url: serving.url,
    service,
    database,
    get,
    stop: async () => {
      await serving.close();
      await service.close();
      const client = await new MongoClient(testEnv().mongoUrl).connect();
      await client.db(database).dropDatabase();
      await client.close();
    },
  };
};

export type QueryServiceUnderTest = Awaited<ReturnType<typeof startQueryService>>;
