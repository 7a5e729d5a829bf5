#!/usr/bin/env node
import { loadConfig } from '@kiln/service-kit/config';
import { createLogger } from '@kiln/service-kit/logger';
import { handleSignals, serve } from '@kiln/service-kit/server';
import { MediaProcessorConfig } from '#src/config.ts';
import { createMediaProcessor } from '#src/service.ts';

const config = loadConfig(MediaProcessorConfig);
const logger = createLogger({ service: 'media-processor', level: config.LOG_LEVEL });
const processor = await createMediaProcessor(config, logger);
const serving = await serve(processor.app, {
  host: config.HOST,
  port: config.PORT,
  logger,
  onShutdown: [processor.close],
});
handleSignals(serving.close, logger);
