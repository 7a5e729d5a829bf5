// A tiny service for the signal test: prints its URL as a JSON line, then serves until SIGTERM.
import express from 'express';
import { createLogger } from '#src/logger.ts';
import { handleSignals, serve } from '#src/server.ts';

const app = express();
app.get('/slow', async (_req, res) => {
  await new Promise((resolve) => setTimeout(resolve, 300));
  res.json({ ok: true, data: 'done' });
});
const logger = createLogger({ service: 'signal-fixture', level: 'silent' });
const { url, close } = await serve(app, { port: 0, logger });
process.stdout.write(`${JSON.stringify({ url })}\n`);
handleSignals(close, logger);
