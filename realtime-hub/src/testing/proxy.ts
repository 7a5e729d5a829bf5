import { createServer, request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';

/** A request that reached the proxy: when, for what, and the status it was answered with. */
export type ProxiedRequest = { at: number; path: string; status: number };
/** A WebSocket upgrade that reached the proxy, passed on or refused. */
export type ProxiedUpgrade = { at: number; refused: boolean };

/** The head of a request as it came, to send on a raw connection to the target. */
const requestHead = (incoming: IncomingMessage) => {
  let head = `${incoming.method ?? 'GET'} ${incoming.url ?? '/'} HTTP/1.1\r\n`;
  for (let index = 0; index < incoming.rawHeaders.length; index += 2)
    head += `${incoming.rawHeaders[index]}: ${incoming.rawHeaders[index + 1]}\r\n`;
  return `${head}\r\n`;
};

/**
 * A proxy in front of a hub, as corporate proxies and load balancers behave: it passes plain HTTP and
 * WebSocket upgrades on, or refuses upgrades (`websockets: false`, or `refuseWebSockets()` mid-stream,
 * which also cuts the WebSockets it carries), and can answer the next requests itself (a 429 with
 * `Retry-After`, say) without passing them on.
 */
export const startProxy = async (target: string, options: { websockets?: boolean } = {}) => {
  const { hostname, port } = new URL(target);
  let websockets = options.websockets ?? true;
  const ownAnswers: { status: number; headers: OutgoingHttpHeaders }[] = [];
  const carried = new Set<Duplex>();
  const requests: ProxiedRequest[] = [];
  const upgrades: ProxiedUpgrade[] = [];

  const proxy = createServer((incoming, outgoing) => {
    const seen = { at: Date.now(), path: incoming.url ?? '/', status: 0 };
    requests.push(seen);
    const own = ownAnswers.shift();
    if (own) {
      seen.status = own.status;
      outgoing.writeHead(own.status, { 'content-type': 'text/plain', ...own.headers });
      outgoing.end(`${own.status}, said the proxy`);
      return;
    }
    const forwarded = request(
      { hostname, port, path: incoming.url, method: incoming.method, headers: incoming.headers },
      (answer) => {
        seen.status = answer.statusCode ?? 502;
        outgoing.writeHead(seen.status, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });

  proxy.on('upgrade', (incoming: IncomingMessage, client: Duplex, head: Buffer) => {
    upgrades.push({ at: Date.now(), refused: !websockets });
    if (!websockets) return void client.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
    const upstream = connect(Number(port), hostname, () => {
      upstream.write(requestHead(incoming));
      upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    carried.add(client);
    const cut = () => {
      carried.delete(client);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
  });

  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address();
  const cutWebSockets = () => {
    for (const client of carried) client.destroy();
  };
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    /** From now on refuses WebSocket upgrades, and cuts the WebSockets it carries. */
    refuseWebSockets: () => {
      websockets = false;
      cutWebSockets();
    },
    /** The next `count` HTTP requests are answered by the proxy itself with `status`, not passed on. */
    answerNext: (count: number, status: number, headers: OutgoingHttpHeaders = {}) => {
      for (let index = 0; index < count; index += 1) ownAnswers.push({ status, headers });
    },
    requests: () => [...requests],
    upgrades: () => [...upgrades],
    close: () =>
      new Promise<void>((resolve) => {
        cutWebSockets();
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
};
