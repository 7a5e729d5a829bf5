import { z } from 'zod';

/**
 * A global position in `$all`: an opaque cursor string. Clients store it and send it back (socket
 * subscriptions, SSE `Last-Event-ID`); they never take it apart. Every event store adapter encodes its
 * native position as two 64-bit numbers in fixed-width lowercase hex (`<16 hex>-<16 hex>`), so positions
 * compare in global order as plain strings.
 */
export const Position = z
  .string()
  .regex(/^[0-9a-f]{16}-[0-9a-f]{16}$/, 'a position is two 16-digit hex numbers joined by "-"');
export type Position = z.infer<typeof Position>;

const HEX_WIDTH = 16;
const MAX_U64 = (1n << 64n) - 1n;

export const encodePosition = (high: bigint, low: bigint): Position => {
  if (high < 0n || low < 0n || high > MAX_U64 || low > MAX_U64) {
    throw new RangeError(`position parts must be unsigned 64-bit numbers, got ${high} and ${low}`);
  }
  return `${high.toString(16).padStart(HEX_WIDTH, '0')}-${low.toString(16).padStart(HEX_WIDTH, '0')}`;
};

export const decodePosition = (position: Position): { high: bigint; low: bigint } => {
  const parsed = Position.parse(position);
  const [high = '', low = ''] = parsed.split('-');
  return { high: BigInt(`0x${high}`), low: BigInt(`0x${low}`) };
};

/** Negative when `a` comes before `b` in `$all`, zero when equal, positive after. */
export const comparePositions = (a: Position, b: Position): number => (a < b ? -1 : a > b ? 1 : 0);
