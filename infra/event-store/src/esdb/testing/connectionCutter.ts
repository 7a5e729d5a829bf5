import net from 'node:net';

/**
 * A TCP proxy for tests: the store under test connects through it, and `dropConnections` cuts every
 * connection it carries, as a network fault or a server restart would, without touching the server or
 * the store. Only a single-node, plain-text connection string can be routed through it: with TLS the
 * certificate names the server's host, and with a cluster (gossip or DNS discovery) the client
 * connects to the addresses the nodes advertise, not to the one in the string.
 */
export type ConnectionCutter = {
  port: number;
  dropConnections: () => number;
  close: () => Promise<void>;
};

export const startConnectionCutter = async (target: {
  host: string;
  port: number;
}): Promise<ConnectionCutter> => {
  const pairs = new Set<{ inbound: net.Socket; outbound: net.Socket }>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target.port, target.host);
    const pair = { inbound, outbound };
    pairs.add(pair);
    const cut = () => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('error', cut).on('close', cut);
    outbound.on('error', cut).on('close', cut);
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  const dropConnections = () => {
    const count = pairs.size;
    for (const { inbound, outbound } of [...pairs]) {
      // A reset, not a polite close: what a crashed server or a broken network looks like.
      inbound.resetAndDestroy();
      outbound.resetAndDestroy();
    }
    pairs.clear();
    return count;
  };
  return {
    port,
    dropConnections,
    close: async () => {
      dropConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/**
 * Where a single-node, plain-text `esdb://` connection string points, so a test can put the cutter in
 * between; undefined when it cannot (TLS, several hosts, discovery).
 */
export const singleInsecureNode = (connectionString: string): { host: string; port: number } | undefined => {
  const match = /^esdb:\/\/(?:[^@/?]*@)?([^/?,]+)\/?(\?.*)?$/i.exec(connectionString);
  if (!match) return undefined;
  const [, hostPort = '', query = ''] = match;
  const parameters = new URLSearchParams(query.replace(/^\?/, ''));
  const tls = [...parameters].find(([key]) => key.toLowerCase() === 'tls')?.[1];
  if (tls?.toLowerCase() !== 'false') return undefined;
  const hostMatch = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostPort);
  if (!hostMatch) return undefined;
  const [, host = '', port = '2113'] = hostMatch;
  return { host: host.replace(/^\[|\]$/g, ''), port: Number(port) };
};

/** The same connection string, pointing at the cutter on the loopback interface instead. */
export const throughCutter = (connectionString: string, cutterPort: number): string =>
  connectionString.replace(/^(esdb:\/\/(?:[^@/?]*@)?)([^/?,]+)/i, `$1127.0.0.1:${cutterPort}`);
