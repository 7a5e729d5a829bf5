import { describe, expect, it } from 'vitest';
import { encodePosition } from '@kiln/contracts/position';
import { positionOf, toEncoded, toRecorded } from '#src/postgres/rows.ts';

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

describe('toEncoded', () => {
  const row = {
    xid: '812',
    sequence: '40',
    stream_id: 'job-j_"1"',
    stream_revision: '3',
    recorded_at: '2026-12-04 23:59:01.12+00',
  };
  const envelope = {
    id: 'e1',
    type: 'JobProgressed',
    data: { step: 'ünï "quoted"', progress: 0.5 },
    metadata: {
      correlationId: 'c1',
      causationId: null,
      actor: { kind: 'system' as const, id: 'kiln' },
      at: 'now',
    },
  };

  it('writes the same event toRecorded makes, without parsing the stored text', () => {
    // PostgreSQL prints jsonb with a space after each colon and comma.
    const stored = JSON.stringify(envelope).replaceAll('":', '": ').replaceAll(',"', ', "');
    const encoded = toEncoded({ ...row, event: stored });
    const recorded = toRecorded({ ...row, event: structuredClone(envelope) }, structuredClone(envelope));
    expect(JSON.parse(encoded.json)).toEqual(recorded);
    expect(encoded).toMatchObject({ position: recorded.position, revision: 3 });
  });

  it('writes an empty envelope as valid JSON', () => {
    expect(JSON.parse(toEncoded({ ...row, event: '{}' }).json)).toMatchObject({ revision: 3 });
  });
});
