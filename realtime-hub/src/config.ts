import { z } from 'zod';

/** Everything the realtime hub reads from its environment, checked once at start (see main.ts). */
export const RealtimeHubConfig = z
  .object({
    HOST: z.string().default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).default(4400),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    EVENTSTORE_URL: z
      .string()
      .regex(/^(postgres(ql)?|esdb(\+discover)?):\/\//, 'a postgres:// or esdb:// URL'),
    EVENTSTORE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_events'),
    /** The read models (the query service's): current state for clients that come without a position. */
    MONGO_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'a mongodb:// URL'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
    IDENTITY_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_identity'),
    /** Rooms across instances (Socket.IO's Redis adapter) and presence. */
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'),
    REDIS_PREFIX: z
      .string()
      .regex(/^[a-z0-9_-]{1,40}$/)
      .default('kiln'),
    /** SSE: a heartbeat event this often; clients treat twice as long without a word as a dead line. */
    HEARTBEAT_SECONDS: z.coerce.number().int().min(1).max(300).default(15),
    /**
     * Bytes waiting to go out to one client (Socket.IO or SSE) before it is told to resync and dropped.
     * Catch-up waits for the client below this bound, at most twice HEARTBEAT_SECONDS per message.
     */
    MAX_PENDING_BYTES: z.coerce
      .number()
      .int()
      .min(16 * 1024)
      .max(1024 * 1024 * 1024)
      .default(2 * 1024 * 1024),
    /** How long a watcher stays present without its hub renewing it (a dead hub's watchers go after it). */
    PRESENCE_TTL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
    /** Browser origins allowed to connect (the web app), comma-separated; none by default. */
    CORS_ORIGINS: z
      .string()
      .default('')
      .transform((value) =>
        value
          .split(',')
          .map((origin) => origin.trim())
          .filter(Boolean),
      ),
  })
  .refine((config) => config.DATABASE_URL || /^postgres/.test(config.EVENTSTORE_URL), {
    message: 'required when EVENTSTORE_URL is not PostgreSQL',
    path: ['DATABASE_URL'],
  });
export type RealtimeHubConfig = z.infer<typeof RealtimeHubConfig>;
