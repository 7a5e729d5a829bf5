import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { comparePositions, decodePosition, encodePosition, Position } from '#src/position.ts';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('positions', () => {
  it('round-trip through their string form', () => {
    fc.assert(
      fc.property(u64, u64, (high, low) => {
        expect(decodePosition(encodePosition(high, low))).toEqual({ high, low });
      }),
    );
  });

  it('compare as strings exactly as their numbers compare', () => {
    fc.assert(
      fc.property(u64, u64, u64, u64, (h1, l1, h2, l2) => {
        const numeric = h1 === h2 ? Math.sign(Number(l1 - l2)) : Math.sign(Number(h1 - h2));
        expect(Math.sign(comparePositions(encodePosition(h1, l1), encodePosition(h2, l2)))).toBe(numeric);
      }),
    );
  });

  it('refuses what is not a position', () => {
    expect(Position.safeParse('42').success).toBe(false);
    expect(Position.safeParse('000000000000000A-0000000000000001').success).toBe(false);
    expect(() => encodePosition(-1n, 0n)).toThrow(RangeError);
    expect(() => encodePosition(1n << 64n, 0n)).toThrow(RangeError);
  });
});
