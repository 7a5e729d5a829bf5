import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { newEventId } from '@kiln/contracts/event-ids';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import type { EventStore } from '@kiln/event-store/port';
import { testEnv } from '@kiln/stack/testing';

const metadata = () =>
  ({
    correlationId: 'media-test',
    causationId: null,
    actor: { kind: 'system', id: 'test' },
    at: new Date().toISOString(),
  }) as const;

/** An event store in a schema of its own, where tests write what the write side would have written. */
export const openTestEventStore = async () => {
  const url = testEnv().eventStoreUrl;
  const schema = `es_media_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const store: EventStore<KilnEvent> = await createPostgresEventStore<KilnEvent>({
    connectionString: url,
    schema,
  });
  return {
    store,
    schema,
    /** A job requested and succeeded at its provider, with outputs at the given URLs. */
    succeeded: async (urls: string[], owner = 'u_media_test') => {
      const jobId = `j_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
      await store.appendToStream(jobStreamId(jobId), [
        {
          id: newEventId(),
          type: 'JobRequested',
          data: {
            jobId,
            accountId: owner,
            userId: owner,
            request: {
              kind: 'image',
              modelId: 'kiln-local-image',
              prompt: 'test',
              width: 512,
              height: 512,
              count: urls.length,
            },
            inputs: [],
            cost: 1,
            deadline: new Date(Date.now() + 600_000).toISOString(),
          },
          metadata: metadata(),
        },
        {
          id: newEventId(),
          type: 'JobSucceeded',
          data: { jobId, provider: 'local', outputs: urls.map((url, index) => ({ index, url })) },
          metadata: metadata(),
        },
      ]);
      return jobId;
    },
    drop: async () => {
      await store.close();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
};
