import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Route = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

export type FileServer = {
  url(path: string): string;
  close(): Promise<void>;
};

/** A real HTTP server on 127.0.0.1 and a free port, answering `routes` by path (404 otherwise). */
export const startFileServer = async (routes: Record<string, Route>): Promise<FileServer> => {
  const server = createServer((request, response) => {
    const route = routes[request.url ?? ''];
    if (!route) return void response.writeHead(404).end();
    void Promise.resolve(route(request, response)).catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

export const serveBytes =
  (bytes: Buffer, contentType = 'application/octet-stream'): Route =>
  (_request, response) =>
    void response.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length }).end(bytes);

/** What a streaming route saw: how much it wrote, and whether the client went away before the end. */
export type StreamReport = { written: number; clientLeftEarly: boolean; finished: Promise<void> };

/**
 * Streams `total` bytes in 64 KiB chunks, waiting for the socket to drain (so `written` is what the client
 * could take, not what piled up in memory), with or without a Content-Length.
 */
export const streamBytes = (total: number, options: { declareLength: boolean }) => {
  let markFinished = () => {};
  const report: StreamReport = {
    written: 0,
    clientLeftEarly: false,
    finished: new Promise<void>((resolve) => (markFinished = resolve)),
  };
  const route: Route = async (_request, response) => {
    response.on('close', () => {
      report.clientLeftEarly = !response.writableFinished;
      markFinished();
    });
    response.writeHead(200, {
      'content-type': 'image/png',
      ...(options.declareLength ? { 'content-length': total } : {}),
    });
    const chunk = Buffer.alloc(64 * 1024, 1);
    while (report.written < total && !response.destroyed) {
      const piece = chunk.subarray(0, Math.min(chunk.length, total - report.written));
      report.written += piece.length;
      if (!response.write(piece)) {
        await new Promise<void>((resolve) => {
          const resume = () => {
            response.off('drain', resume).off('close', resume);
            resolve();
          };
          response.on('drain', resume).on('close', resume);
        });
      }
    }
    if (!response.destroyed) response.end();
  };
  return { route, report };
};

/** Answers nothing at all, or headers and then nothing: until the client gives up. */
export const hang =
  (options: { afterHeaders: boolean }): Route =>
  (_request, response) => {
    if (options.afterHeaders) {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.write(Buffer.alloc(1024));
    }
  };

/**
 * Serves `bytes`, but holds each request until the test lets it go: how many it holds now, and the most it
 * held at once, show how many downloads a client runs in parallel.
 */
export const gatedBytes = (bytes: Buffer, contentType = 'application/octet-stream') => {
  const held: (() => void)[] = [];
  const gate = {
    requests: 0,
    mostHeldAtOnce: 0,
    get holding() {
      return held.length;
    },
    /** Answers the oldest held request. */
    releaseOne: () => held.shift()?.(),
    route: (async (request, response) => {
      gate.requests += 1;
      await new Promise<void>((resolve) => {
        held.push(resolve);
        gate.mostHeldAtOnce = Math.max(gate.mostHeldAtOnce, held.length);
      });
      await serveBytes(bytes, contentType)(request, response);
    }) satisfies Route,
  };
  return gate;
};
