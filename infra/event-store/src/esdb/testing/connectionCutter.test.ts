import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import {
  singleInsecureNode,
  startConnectionCutter,
  throughCutter,
} from '#src/esdb/testing/connectionCutter.ts';

describe('the connection cutter (a test tool for the EventStoreDB adapter)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  it('carries bytes both ways, and cuts every connection it carries, saying how many', async () => {
    const echo = net.createServer((socket) => socket.on('error', () => undefined).pipe(socket));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    cleanups.push(() => new Promise((resolve) => echo.close(() => resolve())));
    const cutter = await startConnectionCutter({
      host: '127.0.0.1',
      port: (echo.address() as net.AddressInfo).port,
    });
    cleanups.push(cutter.close);

    const client = net.connect(cutter.port, '127.0.0.1');
    client.on('error', () => undefined);
    await once(client, 'connect');
    client.write('ping');
    const [reply] = (await once(client, 'data')) as [Buffer];
    expect(reply.toString()).toBe('ping');

    // A reset, so the client sees an error and then the close.
    const closed = new Promise((resolve) => client.once('close', resolve));
    expect(cutter.dropConnections()).toBe(1);
    await closed;
    expect(cutter.dropConnections()).toBe(0);
  });

  it('routes single plain-text nodes only', () => {
    expect(singleInsecureNode('esdb://localhost:2113?tls=false')).toEqual({ host: 'localhost', port: 2113 });
    expect(singleInsecureNode('esdb://admin:changeit@10.0.0.5?TLS=false&keepAliveTimeout=10000')).toEqual({
      host: '10.0.0.5',
      port: 2113,
    });
    expect(singleInsecureNode('esdb://localhost:2113')).toBeUndefined();
    expect(singleInsecureNode('esdb://a:2113,b:2113,c:2113?tls=false')).toBeUndefined();
    expect(singleInsecureNode('esdb+discover://cluster.example:2113?tls=false')).toBeUndefined();
    expect(throughCutter('esdb://admin:changeit@localhost:2113?tls=false', 4567)).toBe(
      'esdb://admin:changeit@127.0.0.1:4567?tls=false',
    );
  });
});
