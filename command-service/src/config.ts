import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65_535);
const perMinute = z.coerce.number().int().positive();

/** Everything the command service reads from its environment, checked once at start (see main.ts). */
export const CommandServiceConfig = z
  .object({
    HOST: z.string().default('127.0.0.1'),
    PORT: port.default(4100),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    EVENTSTORE_URL: z
      .string()
      .regex(/^(postgres(ql)?|esdb(\+discover)?):\/\//, 'a postgres:// or esdb:// URL'),
    /**
     * Users, sign-in sessions, API tokens, invites and the process managers' work list; defaults to
     * EVENTSTORE_URL when that is PostgreSQL.
     */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
      .optional(),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'a redis:// URL'),
    /** PostgreSQL schemas, so several Kiln environments can share one server. */
    EVENTSTORE_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_events'),
    IDENTITY_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_identity'),
    COMMAND_SCHEMA: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default('kiln_commands'),
    /** Prefix of this environment's Redis keys (rate limits, idempotency records). */
    REDIS_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9_:-]{1,40}$/)
      .default('kiln'),
    MEDIA_DIR: z.string().min(1),
    PAYMENT_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'a Standard Webhooks secret: whsec_ and base64'),
    SEED_ADMIN_EMAIL: z.email().optional(),
    SEED_ADMIN_PASSWORD: z.string().min(10).optional(),
    COOKIE_SECURE: z.stringbool().default(false),
    TRUST_PROXY: z.stringbool().default(false),
    MAX_ACTIVE_JOBS: z.coerce.number().int().positive().default(5),
    API_REQUESTS_PER_MINUTE: perMinute.default(100),
    JOB_CREATIONS_PER_MINUTE: perMinute.default(5),
    UPLOADS_PER_MINUTE: perMinute.default(20),
    /** Run the process managers (provider runner, billing effects, timeouts) in this instance. */
    PROCESS_MANAGERS: z.stringbool().default(true),
    /** This service's address as providers can reach it, for their webhooks; without it, polling only. */
    PUBLIC_URL: z.url().optional(),
    POLL_EVERY_MS: z.coerce.number().int().positive().default(2_000),
    /** How long a worker holds a job it works on; a crashed worker's jobs are taken again after it. */
    WORK_LEASE_MS: z.coerce.number().int().positive().default(30_000),
    ORPHAN_RESERVATION_SECONDS: z.coerce.number().int().positive().default(600),
    /** A local provider already running elsewhere; otherwise one is started in this process. */
    LOCAL_PROVIDER_URL: z.url().optional(),
    LOCAL_PROVIDER_DELAY_MS: z.coerce.number().int().nonnegative().default(1_500),
    LOCAL_PROVIDER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
    LOCAL_PROVIDER_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/)
      .optional(),
    REPLICATE_API_TOKEN: z.string().min(8).optional(),
    REPLICATE_BASE_URL: z.url().optional(),
    REPLICATE_WEBHOOK_SECRET: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/)
      .optional(),
    FAL_KEY: z.string().min(8).optional(),
    FAL_QUEUE_URL: z.url().optional(),
    FAL_JWKS_URL: z.url().optional(),
    PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(15_000),
    PROVIDER_MAX_ATTEMPTS: z.coerce.number().int().positive().default(4),
    PROVIDER_BREAKER_FAILURES: z.coerce.number().int().positive().default(5),
    PROVIDER_BREAKER_HALF_OPEN_MS: z.coerce.number().int().positive().default(30_000),
  })
  .refine((config) => !!config.SEED_ADMIN_EMAIL === !!config.SEED_ADMIN_PASSWORD, {
    message: 'set SEED_ADMIN_EMAIL and SEED_ADMIN_PASSWORD together, or neither',
    path: ['SEED_ADMIN_PASSWORD'],
  })
  .refine((config) => config.DATABASE_URL || /^postgres/.test(config.EVENTSTORE_URL), {
    message: 'required when EVENTSTORE_URL is not PostgreSQL',
    path: ['DATABASE_URL'],
  });
export type CommandServiceConfig = z.infer<typeof CommandServiceConfig>;

export const databaseUrlOf = (config: CommandServiceConfig): string =>
  config.DATABASE_URL ?? config.EVENTSTORE_URL;
