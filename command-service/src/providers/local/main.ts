#!/usr/bin/env node
import { z } from 'zod';
import { loadConfig } from '@kiln/service-kit/config';
import { createLogger } from '@kiln/service-kit/logger';
import { handleSignals } from '@kiln/service-kit/server';
import { startLocalProvider } from '#src/providers/local/server.ts';

/** Runs the local provider on its own: `node src/providers/local/main.ts` (settings from the environment). */
const LocalProviderConfig = z.object({
  LOCAL_PROVIDER_HOST: z.string().default('127.0.0.1'),
  LOCAL_PROVIDER_PORT: z.coerce.number().int().min(0).max(65_535).default(4190),
  LOCAL_PROVIDER_OUTPUT_DIR: z.string().min(1).default('.kiln/local-provider'),
  LOCAL_PROVIDER_DELAY_MS: z.coerce.number().int().nonnegative().default(1_500),
  LOCAL_PROVIDER_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  LOCAL_PROVIDER_CONCURRENCY: z.coerce.number().int().positive().default(2),
  LOCAL_PROVIDER_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9+/=]{16,}$/, 'a Standard Webhooks secret: whsec_ and base64')
    .optional(),
  LOCAL_PROVIDER_TOKEN: z.string().min(8).optional(),
});

const config = loadConfig(LocalProviderConfig);
const logger = createLogger({ service: 'local-provider' });
const provider = await startLocalProvider({
  host: config.LOCAL_PROVIDER_HOST,
  port: config.LOCAL_PROVIDER_PORT,
  outputDir: config.LOCAL_PROVIDER_OUTPUT_DIR,
  delayMs: config.LOCAL_PROVIDER_DELAY_MS,
  failureRate: config.LOCAL_PROVIDER_FAILURE_RATE,
  concurrency: config.LOCAL_PROVIDER_CONCURRENCY,
  ...(config.LOCAL_PROVIDER_WEBHOOK_SECRET ? { webhookSecret: config.LOCAL_PROVIDER_WEBHOOK_SECRET } : {}),
  ...(config.LOCAL_PROVIDER_TOKEN ? { token: config.LOCAL_PROVIDER_TOKEN } : {}),
});
logger.info({ url: provider.url }, 'local provider listening');
handleSignals(provider.close, logger);
