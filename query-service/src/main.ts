#!/usr/bin/env node
import { loadConfig } from '@kiln/service-kit/config';
import { createLogger } from '@kiln/service-kit/logger';
import { handleSignals, serve } from '@kiln/service-kit/server';
import { QueryServiceConfig } from '#src/config.ts';
import { createQueryService } from '#src/service.ts';

const config = loadConfig(QueryServiceConfig);
const logger = createLogger({ service: 'query-service', level: config.LOG_LEVEL });
const service = await createQueryService(config, logger);
const serving = await serve(service.app, {
  host: config.HOST,
  port: config.PORT,
  logger,
  onShutdown: [service.close],
});
handleSignals(serving.close, logger);
