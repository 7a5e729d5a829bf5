// The Socket.IO v5 protocol over Engine.IO v4, as text WebSocket frames, written out by hand for k6 (which
// has WebSockets but no Socket.IO client). Pure: no k6 and no Node imports, so vitest checks it against
// the real socket.io-parser. Only the default namespace and text packets: Kiln's hub sends no binary.

/** Engine.IO packet types (the first character of a frame). */
const OPEN = '0';
const CLOSE = '1';
const PING = '2';
const PONG = '3';
const MESSAGE = '4';
const NOOP = '6';

/** Socket.IO packet types (the character after Engine.IO's `4`). */
const CONNECT = '0';
const DISCONNECT = '1';
const EVENT = '2';
const ACK = '3';
const CONNECT_ERROR = '4';

/** What the server says in its Engine.IO open packet. */
export type Handshake = { sid: string; pingInterval: number; pingTimeout: number; maxPayload?: number };

export type Frame =
  | { kind: 'open'; handshake: Handshake }
  | { kind: 'ping' }
  | { kind: 'pong' }
  | { kind: 'close' }
  | { kind: 'noop' }
  | { kind: 'connected'; sid: string }
  | { kind: 'connect_error'; message: string }
  | { kind: 'disconnected' }
  | { kind: 'event'; name: string; args: unknown[]; ackId?: number }
  | { kind: 'ack'; ackId: number; args: unknown[] }
  | { kind: 'unknown'; text: string };

/** The WebSocket URL of a Socket.IO server at `baseUrl` (http or https), WebSocket transport at once. */
export const socketUrl = (baseUrl: string): string =>
  `${baseUrl.replace(/^http/, 'ws').replace(/\/$/, '')}/socket.io/?EIO=4&transport=websocket`;

/** Joins the default namespace, with the handshake's `auth` payload (Kiln: `{ token }`). */
export const encodeConnect = (auth?: Record<string, unknown>): string =>
  `${MESSAGE}${CONNECT}${auth === undefined ? '' : JSON.stringify(auth)}`;

/** An event, with an ack id when the sender wants an answer. */
export const encodeEvent = (name: string, args: unknown[], ackId?: number): string =>
  `${MESSAGE}${EVENT}${ackId === undefined ? '' : String(ackId)}${JSON.stringify([name, ...args])}`;

export const encodePong = (): string => PONG;

/** Leaves the namespace (the server then closes its side). */
export const encodeDisconnect = (): string => `${MESSAGE}${DISCONNECT}`;

const parseJson = (text: string): unknown => (text === '' ? undefined : JSON.parse(text));

/** Splits `<digits><json>` into the ack id and the payload. */
const withAckId = (body: string): { ackId?: number; payload: unknown } => {
  const digits = /^\d+/.exec(body)?.[0] ?? '';
  const payload = parseJson(body.slice(digits.length));
  return digits === '' ? { payload } : { ackId: Number(digits), payload };
};

const decodeMessage = (text: string): Frame => {
  // A namespace other than "/" would come as "/name," after the type: Kiln uses the default one only.
  if (text[1] === '/') return { kind: 'unknown', text };
  const body = text.slice(1);
  switch (text[0]) {
    case CONNECT: {
      const payload = parseJson(body) as { sid?: unknown } | undefined;
      return { kind: 'connected', sid: typeof payload?.sid === 'string' ? payload.sid : '' };
    }
    case CONNECT_ERROR: {
      const payload = parseJson(body) as { message?: unknown } | string | undefined;
      const message =
        typeof payload === 'string'
          ? payload
          : typeof payload?.message === 'string'
            ? payload.message
            : 'refused';
      return { kind: 'connect_error', message };
    }
    case DISCONNECT:
      return { kind: 'disconnected' };
    case EVENT: {
      const { ackId, payload } = withAckId(body);
      if (!Array.isArray(payload) || typeof payload[0] !== 'string') return { kind: 'unknown', text };
      const [name, ...args] = payload as [string, ...unknown[]];
      return ackId === undefined ? { kind: 'event', name, args } : { kind: 'event', name, args, ackId };
    }
    case ACK: {
      const { ackId, payload } = withAckId(body);
      if (ackId === undefined || !Array.isArray(payload)) return { kind: 'unknown', text };
      return { kind: 'ack', ackId, args: payload as unknown[] };
    }
    default:
      return { kind: 'unknown', text };
  }
};

/** One text frame from the server. */
export const decodeFrame = (text: string): Frame => {
  switch (text[0]) {
    case OPEN:
      return { kind: 'open', handshake: JSON.parse(text.slice(1)) as Handshake };
    case PING:
      return { kind: 'ping' };
    case PONG:
      return { kind: 'pong' };
    case CLOSE:
      return { kind: 'close' };
    case NOOP:
      return { kind: 'noop' };
    case MESSAGE:
      return decodeMessage(text.slice(1));
    default:
      return { kind: 'unknown', text };
  }
};
