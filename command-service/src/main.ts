#!/usr/bin/env node
import { loadConfig } from '@kiln/service-kit/config';
import { createLogger } from '@kiln/service-kit/logger';
import { handleSignals, serve } from '@kiln/service-kit/server';
import { CommandServiceConfig } from '#src/config.ts';
import { createCommandService } from '#src/service.ts';

const config = loadConfig(CommandServiceConfig);
const logger = createLogger({ service: 'command-service', level: config.LOG_LEVEL });
const service = await createCommandService(config, logger, {
  eventStoreSchema: config.EVENTSTORE_SCHEMA,
  identitySchema: config.IDENTITY_SCHEMA,
  commandSchema: config.COMMAND_SCHEMA,
  rateLimitPrefix: config.REDIS_PREFIX,
});
const closeService = async () => {
  await service.close();
  logger.info('closed the event store, the databases and Redis');
};
const serving = await serve(service.app, {
  host: config.HOST,
  port: config.PORT,
  logger,
  onShutdown: [closeService],
});
handleSignals(serving.close, logger);
