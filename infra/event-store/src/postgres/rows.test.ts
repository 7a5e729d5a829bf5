import { describe, expect, it } from 'vitest';
import { encodePosition } from '@kiln/contracts/position';
import { positionOf } from '#src/postgres/rows.ts';

describe('positionOf', () => {
  it('encodes PostgreSQL decimal text exactly as encodePosition does, small or large', () => {
    for (const [xid, sequence] of [
      ['0', '0'],
      ['9', '10'],
      ['123456789012345', '999999999999999'],
      ['18446744073709551615', '9223372036854775807'],
    ] as const) {
      expect(positionOf(xid, sequence)).toBe(encodePosition(BigInt(xid), BigInt(sequence)));
    }
  });
});
