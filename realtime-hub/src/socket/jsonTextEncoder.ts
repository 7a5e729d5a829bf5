// Socket.IO's encoder, taught one thing: an event whose last argument is JSON already written out goes
// into its packet as that text. A catch-up relays events the store hands over as JSON text, and parsing
// them only to encode them again would be most of what replaying costs the hub.
import { Decoder, Encoder, PacketType, type Packet } from 'socket.io-parser';

/** JSON that is already text. Only for messages to one socket: the Redis adapter does not carry it. */
export class JsonText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** What `socket.io-parser` writes for an event packet, with the last argument's text spliced in as is. */
export class JsonTextEncoder extends Encoder {
  override encode(packet: Packet): ReturnType<Encoder['encode']> {
    const args: unknown = packet.data;
    const last = Array.isArray(args) ? (args as unknown[]).at(-1) : undefined;
    if (packet.type !== PacketType.EVENT || !(last instanceof JsonText)) return super.encode(packet);
    const head = (args as unknown[]).slice(0, -1).map((arg) => JSON.stringify(arg));
    const namespace = packet.nsp && packet.nsp !== '/' ? `${packet.nsp},` : '';
    return [`${packet.type}${namespace}${packet.id ?? ''}[${[...head, last.text].join(',')}]`];
  }
}

/** The `parser` option of a Socket.IO server: this encoder, the standard decoder. */
export const jsonTextParser = { Encoder: JsonTextEncoder, Decoder };
