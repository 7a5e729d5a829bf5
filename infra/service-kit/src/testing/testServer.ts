import express, { type Express } from 'express';
import { afterEach } from 'vitest';
import { correlation, errorMiddleware, jsonBody, notFound, requestLog, type MapError } from '#src/http.ts';
import type { Logger } from '#src/logger.ts';
import { serve, type Serving } from '#src/server.ts';

const running: Serving[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((serving) => serving.close()));
});

/** Serves `app` on a free loopback port for the current test; closed after it. */
export async function startServer(app: Express, logger: Logger): Promise<Serving> {
  const serving = await serve(app, { port: 0, logger, shutdownTimeoutMs: 2_000 });
  running.push(serving);
  return serving;
}

export type KitAppOptions = { logger: Logger; mapError?: MapError; jsonLimit?: string };

/** An app wired the way a Kiln service wires one: the kit's middleware around the test's routes. */
export function kitApp(
  { logger, mapError, jsonLimit }: KitAppOptions,
  routes: (app: Express) => void,
): Express {
  const app = express();
  app.use(correlation({ logger }), requestLog(), jsonBody(jsonLimit ? { limit: jsonLimit } : {}));
  routes(app);
  app.use(notFound(), errorMiddleware(mapError ? { mapError } : {}));
  return app;
}
