import { Encoder, PacketType, type Packet } from 'socket.io-parser';
import { describe, expect, it } from 'vitest';
import { JsonText, JsonTextEncoder } from '#src/socket/jsonTextEncoder.ts';

const message = {
  channel: 'job:j_1',
  events: [
    { id: 'e1', type: 'JobProgressed', data: { step: 'a "quoted" step', progress: 0.5 }, revision: 3 },
  ],
};

describe('the JSON-text encoder', () => {
  it('writes an event with JSON text exactly as the standard encoder writes the parsed value', () => {
    for (const nsp of ['/', '/admin']) {
      for (const id of [undefined, 7]) {
        const parsed: Packet = {
          type: PacketType.EVENT,
          nsp,
          data: ['events', message],
          ...(id ? { id } : {}),
        };
        const asText: Packet = { ...parsed, data: ['events', new JsonText(JSON.stringify(message))] };
        expect(new JsonTextEncoder().encode(asText)).toEqual(new Encoder().encode(parsed));
      }
    }
  });

  it('leaves every other packet to the standard encoder, binary ones included', () => {
    const packets: Packet[] = [
      { type: PacketType.EVENT, nsp: '/', data: ['event', message] },
      { type: PacketType.ACK, nsp: '/', id: 1, data: [{ ok: true }] },
      { type: PacketType.EVENT, nsp: '/', data: ['bytes', Buffer.from([1, 2, 3])] },
      { type: PacketType.CONNECT, nsp: '/', data: { sid: 'x' } },
    ];
    for (const packet of packets)
      expect(new JsonTextEncoder().encode(packet)).toEqual(new Encoder().encode(packet));
  });
});
