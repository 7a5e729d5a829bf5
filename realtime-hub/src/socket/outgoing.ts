import type { Socket } from 'socket.io';

/** engine.io's side of a socket: the packets it holds until the network takes them (a private field). */
type WriteBuffer = { writeBuffer: Array<{ data?: unknown }> };

const sizeOf = (data: unknown) =>
  typeof data === 'string'
    ? data.length
    : data instanceof ArrayBuffer || ArrayBuffer.isView(data)
      ? data.byteLength
      : 0;

/**
 * Bytes this socket has waiting in engine.io's write buffer. A client that reads keeps it near zero (the
 * buffer goes to the network as soon as the previous write is taken); one that stops reading makes it grow.
 */
export const unsentBytes = (socket: Socket): number => {
  let bytes = 0;
  for (const packet of (socket.conn as unknown as WriteBuffer).writeBuffer) bytes += sizeOf(packet.data);
  return bytes;
};

/**
 * Resolves true once the socket's unsent bytes are below `limit` (engine.io hands its buffer to the
 * network: `drain`), false when `timeoutMs` passes first or the connection closes.
 */
export const roomBelow = (socket: Socket, limit: number, timeoutMs: number): Promise<boolean> => {
  if (unsentBytes(socket) < limit) return Promise.resolve(true);
  if (socket.disconnected) return Promise.resolve(false);
  const conn = socket.conn;
  return new Promise((resolve) => {
    const done = (answer: boolean) => {
      clearTimeout(timer);
      conn.off('drain', onDrain);
      conn.off('close', onClose);
      resolve(answer);
    };
    const onDrain = () => {
      if (unsentBytes(socket) < limit) done(true);
    };
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    conn.on('drain', onDrain);
    conn.once('close', onClose);
  });
};
