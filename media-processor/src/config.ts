import { z } from 'zod';

/** Everything the media processor reads from its environment, checked once at start (see main.ts). */
export const MediaProcessorConfig = z
  .object({
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(4300),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    EVENTSTORE_URL: z
      .string()
      .regex(/^(postgres(ql)?|esdb(\+discover)?):\/\//, 'a postgres:// or esdb:// URL'),
    /** Its own tables (work list, access view, checkpoint) and the users of the sign-in sessions. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
    EVENTSTORE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_events'),
    IDENTITY_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_identity'),
    MEDIA_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_media'),
    /** Where artifacts go: a folder (`/var/kiln/media`, `file:///…`) or `s3://bucket?endpoint=…&region=…`. */
    MEDIA_STORE: z.string().min(1),
    /** Outputs processed at once; the rest wait in the work list (bounded memory). */
    MEDIA_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
    SHARP_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(1),
    DOWNLOAD_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
    DOWNLOAD_MAX_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(100 * 1024 * 1024),
    /** Tries of a job whose download keeps failing for a passing reason, before it fails (retryable). */
    DOWNLOAD_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    /** How long a worker holds an item; a crashed worker's items are taken again after it. */
    WORK_LEASE_MS: z.coerce.number().int().positive().default(60_000),
  })
  .refine((config) => config.DATABASE_URL || /^postgres/.test(config.EVENTSTORE_URL), {
    message: 'required when EVENTSTORE_URL is not PostgreSQL',
    path: ['DATABASE_URL'],
  });
export type MediaProcessorConfig = z.infer<typeof MediaProcessorConfig>;

export const databaseUrlOf = (config: MediaProcessorConfig): string =>
  config.DATABASE_URL ?? config.EVENTSTORE_URL;
