import { profileUrls } from '@kiln/stack/profiles';

const isPostgresUrl = (url: string | undefined): url is string => !!url && /^postgres(ql)?:\/\//.test(url);

/**
 * The PostgreSQL server the integration tests use: EVENTSTORE_URL when it is a postgres:// URL, else the
 * test stack's. The PostgreSQL suite always runs; an esdb:// EVENTSTORE_URL adds the EventStoreDB one.
 */
export const postgresTestUrl = (): string => {
  const configured = process.env['EVENTSTORE_URL'];
  return isPostgresUrl(configured) ? configured : profileUrls('test').eventStoreUrl;
};

export const needsTestStack = (): boolean => !isPostgresUrl(process.env['EVENTSTORE_URL']);
