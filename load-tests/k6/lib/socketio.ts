// A Socket.IO client on k6's WebSockets: the Engine.IO handshake, pings answered, the default namespace
// joined with `auth: { token }`, events with acks. One per watching client.
import { WebSocket } from 'k6/websockets';
import { decodeFrame, encodeConnect, encodeEvent, encodePong, socketUrl } from './engineio.ts';

export type SocketIoHandlers = {
  /** The namespace is joined: the hub took the token. */
  onConnected?: () => void;
  /** A server event, with the moment k6 received its frame (ms since the epoch). */
  onEvent?: (name: string, args: unknown[], receivedAt: number) => void;
  /** The hub refused the connection (`connect_error`), e.g. `unauthenticated`. */
  onRefused?: (message: string) => void;
  onClosed?: () => void;
  onError?: (error: string) => void;
};

export type SocketIo = {
  /** Sends an event; `onAck` gets the server's answer. */
  emit: (name: string, args: unknown[], onAck?: (args: unknown[]) => void) => void;
  close: () => void;
  isClosed: () => boolean;
};

export const connectSocketIo = (
  hubUrl: string,
  token: string,
  handlers: SocketIoHandlers,
  tags: Record<string, string> = {},
): SocketIo => {
  const socket = new WebSocket(socketUrl(hubUrl), null, { tags });
  const acks = new Map<number, (args: unknown[]) => void>();
  let nextAckId = 0;
  let closed = false;

  const close = () => {
    if (closed) return;
    closed = true;
    socket.close();
  };

  socket.onmessage = (message) => {
    if (!message || typeof message.data !== 'string') return;
    const frame = decodeFrame(message.data);
    switch (frame.kind) {
      case 'open':
        return socket.send(encodeConnect({ token }));
      case 'ping':
        return socket.send(encodePong());
      case 'connected':
        return handlers.onConnected?.();
      case 'connect_error':
        handlers.onRefused?.(frame.message);
        return close();
      case 'event':
        return handlers.onEvent?.(frame.name, frame.args, message.timestamp || Date.now());
      case 'ack': {
        const onAck = acks.get(frame.ackId);
        acks.delete(frame.ackId);
        return onAck?.(frame.args);
      }
      case 'disconnected':
      case 'close':
        return close();
      default:
        return undefined;
    }
  };
  socket.onclose = () => {
    closed = true;
    handlers.onClosed?.();
  };
  socket.onerror = (event) => handlers.onError?.(event?.error ?? 'WebSocket error');

  return {
    emit: (name, args, onAck) => {
      if (closed) return;
      if (!onAck) return socket.send(encodeEvent(name, args));
      const ackId = nextAckId++;
      acks.set(ackId, onAck);
      socket.send(encodeEvent(name, args, ackId));
    },
    close,
    isClosed: () => closed,
  };
};
