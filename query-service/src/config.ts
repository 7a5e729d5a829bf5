import { z } from 'zod';

/** Everything the query service reads from its environment, checked once at start (see main.ts). */
export const QueryServiceConfig = z
  .object({
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(4200),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    EVENTSTORE_URL: z
      .string()
      .regex(/^(postgres(ql)?|esdb(\+discover)?):\/\//, 'a postgres:// or esdb:// URL'),
    EVENTSTORE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_events'),
    /** The read models: MongoDB, or FerretDB locally. The database is the URL's path (default `kiln`). */
    MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URL'),
    /** Where the users of sign-in sessions and API tokens live; defaults to EVENTSTORE_URL when PostgreSQL. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
    IDENTITY_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_identity'),
    /** Run the projectors in this instance (several instances may serve reads while one projects). */
    PROJECTORS: z.stringbool().default(true),
    /** How many events of `$all` a projector folds and writes between two checkpoints. */
    PROJECTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(10_000).default(500),
    /** The longest `?after=<position>` waits for the projectors before answering 503. */
    AFTER_WAIT_MS: z.coerce.number().int().min(0).max(30_000).default(5_000),
  })
  .refine((config) => config.DATABASE_URL || /^postgres/.test(config.EVENTSTORE_URL), {
    message: 'required when EVENTSTORE_URL is not PostgreSQL',
    path: ['DATABASE_URL'],
  });
export type QueryServiceConfig = z.infer<typeof QueryServiceConfig>;

export const databaseUrlOf = (config: QueryServiceConfig): string =>
  config.DATABASE_URL ?? config.EVENTSTORE_URL;

/** The read models' database: the path of MONGO_URL, `kiln` when it names none. */
export const readModelDatabaseOf = (mongoUrl: string): string =>
  /^mongodb(?:\+srv)?:\/\/[^/]+\/([^?]+)/.exec(mongoUrl)?.[1] ?? 'kiln';
