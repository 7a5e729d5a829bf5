import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createLogger } from '@kiln/service-kit/logger';
import { serve } from '@kiln/service-kit/server';
import { testEnv } from '@kiln/stack/testing';
import { MediaProcessorConfig } from '#src/config.ts';
import { createMediaProcessor } from '#src/service.ts';

/**
 * A real media processor on a free port, on the test stack, reading the event store schema and the users
 * of a command service under test, with its own tables and artifact folder (or the `MEDIA_STORE` given,
 * shared with another instance: that folder is then the caller's to remove).
 */
export const startMediaProcessor = async (
  schemas: { eventStoreSchema: string; identitySchema: string },
  overrides: Record<string, string> = {},
) => {
  const urls = testEnv();
  const mediaSchema = `media_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const sharedDir = overrides['MEDIA_STORE'];
  const artifactsDir = sharedDir ?? (await mkdtemp(join(tmpdir(), 'kiln-media-')));
  const config = MediaProcessorConfig.parse({
    EVENTSTORE_URL: urls.eventStoreUrl,
    EVENTSTORE_SCHEMA: schemas.eventStoreSchema,
    IDENTITY_SCHEMA: schemas.identitySchema,
    MEDIA_SCHEMA: mediaSchema,
    MEDIA_STORE: artifactsDir,
    LOG_LEVEL: 'warn',
    ...overrides,
  });
  const logger = createLogger({ service: 'media-processor', level: config.LOG_LEVEL });
  const processor = await createMediaProcessor(config, logger);
  const serving = await serve(processor.app, { port: 0, logger });
  return {
    url: serving.url,
    processor,
    artifactsDir,
    mediaSchema,
    /** The value of a metric on `/metrics`, summed over the series whose labels include `labels`. */
    metric: async (name: string, labels: Record<string, string> = {}) => {
      const text = await (await fetch(`${serving.url}/metrics`)).text();
      const series = text.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'));
      const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
      return [...series]
        .filter((match) => wanted.every((pair) => (match[1] ?? '').split(',').includes(pair)))
        .reduce((sum, match) => sum + Number(match[2]), 0);
    },
    stop: async () => {
      await serving.close();
      await processor.close();
      const admin = new pg.Client({ connectionString: urls.eventStoreUrl });
      await admin.connect();
      await admin.query(`drop schema if exists ${mediaSchema} cascade`);
      await admin.end();
      if (!sharedDir) await rm(artifactsDir, { recursive: true, force: true });
    },
  };
};

export type MediaProcessorUnderTest = Awaited<ReturnType<typeof startMediaProcessor>>;
