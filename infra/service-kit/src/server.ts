import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '#src/logger.ts';

export type ServeOptions = {
  host?: string;
  /** 0 picks a free port (tests); the chosen one is in `url`. */
  port: number;
  logger: Logger;
  shutdownTimeoutMs?: number;
  /** Run in order after the server has stopped serving: close pools, clients, subscriptions... */
  onShutdown?: Array<() => Promise<void>>;
};

export type Serving = { server: Server; url: string; close: () => Promise<void> };

const listen = (server: Server, port: number, host: string): Promise<void> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

const urlOf = (server: Server): string => {
  const { address, port } = server.address() as AddressInfo;
  return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
};

/**
 * Starts serving `app`. `close()` (idempotent) stops accepting connections, closes idle keep-alive ones,
 * lets in-flight requests finish for up to `shutdownTimeoutMs` (then cuts what is left), and runs the
 * `onShutdown` hooks in order; a failing hook is logged and the next one still runs.
 */
export async function serve(app: RequestListener, options: ServeOptions): Promise<Serving> {
  const { host = '127.0.0.1', port, logger, shutdownTimeoutMs = 10_000, onShutdown = [] } = options;
  const server = createServer();
  let closing: Promise<void> | undefined;
  let isClosing = false;

  // Once closing, every answer tells its client not to reuse the connection, which then ends with it.
  const inFlight = new Set<ServerResponse>();
  const noKeepAlive = (res: ServerResponse): void => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
  };
  server.on('request', (_req, res) => {
    if (isClosing) noKeepAlive(res);
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      if (isClosing) setImmediate(() => server.closeIdleConnections());
    });
  });
  server.on('request', app);

  const stopServing = async (): Promise<void> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    inFlight.forEach(noKeepAlive);
    server.closeIdleConnections();
    const deadline = setTimeout(() => {
      logger.warn({ shutdownTimeoutMs }, 'requests still running at the shutdown deadline; cutting them');
      server.closeAllConnections();
    }, shutdownTimeoutMs);
    await stopped;
    clearTimeout(deadline);
  };

  const shutdown = async (): Promise<void> => {
    isClosing = true;
    logger.info('shutting down');
    await stopServing();
    for (const hook of onShutdown) {
      try {
        await hook();
      } catch (error) {
        logger.error({ err: error }, 'a shutdown hook failed');
      }
    }
    logger.info('shut down');
  };

  await listen(server, port, host);
  const url = urlOf(server);
  logger.info({ url }, 'listening');
  return { server, url, close: () => (closing ??= shutdown()) };
}

/** SIGTERM or SIGINT closes gracefully, then exits 0 (1 if closing failed). A second signal kills at once. */
export function handleSignals(close: () => Promise<void>, logger: Logger): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received');
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
