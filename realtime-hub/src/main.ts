#!/usr/bin/env node
import { loadConfig } from '@kiln/service-kit/config';
import { createLogger } from '@kiln/service-kit/logger';
import { handleSignals, serve } from '@kiln/service-kit/server';
import { RealtimeHubConfig } from '#src/config.ts';
import { createRealtimeHub } from '#src/service.ts';

const config = loadConfig(RealtimeHubConfig);
const logger = createLogger({ service: 'realtime-hub', level: config.LOG_LEVEL });
const hub = await createRealtimeHub(config, logger);
const serving = await serve(hub.app, {
  host: config.HOST,
  port: config.PORT,
  logger,
  onShutdown: [hub.close],
});
hub.attach(serving.server);
handleSignals(async () => {
  hub.drain();
  await serving.close();
}, logger);
