import { encodePacket } from 'engine.io-parser';
import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeConnect, encodeEvent, encodePong, socketUrl } from '#k6/lib/engineio.ts';

/** A Socket.IO packet as the real server writes it into an Engine.IO WebSocket frame. */
const serverFrame = (packet: Packet): Promise<string> =>
  new Promise((resolve) => {
    const [encoded] = new Encoder().encode(packet) as string[];
    encodePacket({ type: 'message', data: encoded ?? '' }, false, (frame) => resolve(frame as string));
  });

/** What the real server's parser makes of a frame the k6 client sends (Engine.IO's `4` taken off). */
const serverReads = (frame: string): Promise<Packet> =>
  new Promise((resolve) => {
    const decoder = new Decoder();
    decoder.on('decoded', (packet: Packet) => resolve(packet));
    expect(frame[0]).toBe('4');
    decoder.add(frame.slice(1));
  });

describe('the k6 Socket.IO client framing', () => {
  it('joins the default namespace with the auth payload the hub reads the token from', async () => {
    await expect(serverReads(encodeConnect({ token: 'kiln_abc' }))).resolves.toMatchObject({
      type: PacketType.CONNECT,
      nsp: '/',
      data: { token: 'kiln_abc' },
    });
  });

  it('sends events with and without an ack id as socket.io-parser reads them', async () => {
    const subscribe = { subscriptionId: 's', topic: { kind: 'session', sessionId: 's_1' }, after: 'p' };
    await expect(serverReads(encodeEvent('subscribe', [subscribe], 12))).resolves.toMatchObject({
      type: PacketType.EVENT,
      nsp: '/',
      id: 12,
      data: ['subscribe', subscribe],
    });
    const read = await serverReads(encodeEvent('unsubscribe', [{ subscriptionId: 's' }]));
    expect(read).toMatchObject({ type: PacketType.EVENT, data: ['unsubscribe', { subscriptionId: 's' }] });
    expect(read.id).toBeUndefined();
  });

  it("reads the server's handshake, pings, connect answers, events and acks", async () => {
    expect(decodeFrame('0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000}')).toEqual({
      kind: 'open',
      handshake: { sid: 'abc', upgrades: [], pingInterval: 25000, pingTimeout: 20000 },
    });
    expect(decodeFrame('2')).toEqual({ kind: 'ping' });
    expect(encodePong()).toBe('3');
    expect(
      decodeFrame(await serverFrame({ type: PacketType.CONNECT, nsp: '/', data: { sid: 'x1' } })),
    ).toEqual({
      kind: 'connected',
      sid: 'x1',
    });
    const refusal = { message: 'unauthenticated: sign in, or send an API token' };
    expect(
      decodeFrame(await serverFrame({ type: PacketType.CONNECT_ERROR, nsp: '/', data: refusal })),
    ).toEqual({
      kind: 'connect_error',
      message: refusal.message,
    });
    const event = { channel: 'session:s_1', event: { id: 'e1', position: '01-02' } };
    expect(
      decodeFrame(await serverFrame({ type: PacketType.EVENT, nsp: '/', data: ['event', event] })),
    ).toEqual({
      kind: 'event',
      name: 'event',
      args: [event],
    });
    const ack = { ok: true, subscriptionId: 's', resumed: { mode: 'replay', after: '01-02', events: 3 } };
    expect(decodeFrame(await serverFrame({ type: PacketType.ACK, nsp: '/', id: 12, data: [ack] }))).toEqual({
      kind: 'ack',
      ackId: 12,
      args: [ack],
    });
    expect(decodeFrame(await serverFrame({ type: PacketType.DISCONNECT, nsp: '/' }))).toEqual({
      kind: 'disconnected',
    });
  });

  it('keeps what it does not know apart, and speaks WebSocket at once', () => {
    expect(decodeFrame('42/admin,["x"]')).toEqual({ kind: 'unknown', text: '2/admin,["x"]' });
    expect(decodeFrame('5')).toEqual({ kind: 'unknown', text: '5' });
    expect(socketUrl('http://127.0.0.1:4400/')).toBe(
      'ws://127.0.0.1:4400/socket.io/?EIO=4&transport=websocket',
    );
    expect(socketUrl('https://hub.example')).toBe('wss://hub.example/socket.io/?EIO=4&transport=websocket');
  });
});
