import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The small HTTP server under the local provider and the provider stubs: routes by method and path
 * pattern, JSON in and out, an optional hook that runs before every route (for scripted faults), and a
 * close that also ends connections held open.
 */

export type StubRequest = {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
};

export type StubReply = {
  status: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as it is. */
  body?: unknown;
};

export type Route = {
  method: string;
  path: RegExp;
  /** What the route does, for hooks that treat calls by kind (a stub's fault script). */
  tag?: string;
  handle: (request: StubRequest, params: string[]) => StubReply | Promise<StubReply>;
};

/** Runs before the route: answer (or drop the connection) and return true, or return false to go on. */
export type BeforeRoute = (request: StubRequest, route: Route, response: ServerResponse) => Promise<boolean>;

export type HttpServerOptions = { port?: number; host?: string; routes: Route[]; before?: BeforeRoute };

export type RunningServer = { url: string; close: () => Promise<void> };

const MAX_BODY_BYTES = 20 * 1024 * 1024;

export const sendReply = (response: ServerResponse, reply: StubReply): void => {
  if (response.destroyed || response.headersSent) return;
  const isRaw = typeof reply.body === 'string' || Buffer.isBuffer(reply.body);
  const payload =
    reply.body === undefined ? '' : isRaw ? (reply.body as string | Buffer) : JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    ...(isRaw || reply.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...reply.headers,
  });
  response.end(payload);
};

export const jsonBody = (request: StubRequest): unknown => {
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch {
    return undefined;
  }
};

export const startHttpServer = async (options: HttpServerOptions): Promise<RunningServer> => {
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    let size = 0;
    incoming.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) incoming.destroy();
      else chunks.push(chunk);
    });
    incoming.on('end', () => {
      const request: StubRequest = {
        method: incoming.method ?? 'GET',
        url: new URL(incoming.url ?? '/', 'http://stub'),
        headers: incoming.headers,
        body: Buffer.concat(chunks),
      };
      void route(request, response).catch(() =>
        sendReply(response, { status: 500, body: { detail: 'stub failure' } }),
      );
    });
  });

  const route = async (request: StubRequest, response: ServerResponse) => {
    for (const candidate of options.routes) {
      if (candidate.method !== request.method) continue;
      const match = candidate.path.exec(request.url.pathname);
      if (!match) continue;
      if (options.before && (await options.before(request, candidate, response))) return;
      const params = match.slice(1).map((part) => decodeURIComponent(part));
      sendReply(response, await candidate.handle(request, params));
      return;
    }
    sendReply(response, { status: 404, body: { detail: 'Not found' } });
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
