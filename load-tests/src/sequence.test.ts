import { describe, expect, it } from 'vitest';
import { compareWithTruth, createSequence, type Seen } from '#k6/lib/sequence.ts';

const event = (id: string, position: number, streamId = 'job-1', revision = position): Seen => ({
  id,
  position: position.toString(16).padStart(16, '0') + '-0000000000000000',
  streamId,
  revision,
});

describe('what a watching client checks as events arrive', () => {
  it('passes events in order, each once, without a skipped revision', () => {
    const sequence = createSequence();
    expect([event('a', 1), event('b', 2), event('c', 3, 'session-1', 0)].map(sequence.add)).toEqual([
      'ok',
      'ok',
      'ok',
    ]);
    expect([sequence.unique(), sequence.duplicates(), sequence.outOfOrder(), sequence.gaps()]).toEqual([
      3, 0, 0, 0,
    ]);
  });

  it('counts a repeat, an event out of order and a revision skipped', () => {
    const sequence = createSequence();
    sequence.add(event('a', 1));
    expect(sequence.add(event('a', 1))).toBe('duplicate');
    sequence.add(event('c', 4));
    expect(sequence.add(event('b', 3))).toBe('out_of_order');
    expect(sequence.duplicates()).toBe(1);
    expect(sequence.outOfOrder()).toBe(1);
    // revision 1 → 4: 2 and 3 were skipped (3 arrived late, which the order check counts).
    expect(sequence.gaps()).toBe(2);
    expect(sequence.received()).toEqual(['a', 'a', 'c', 'b']);
  });
});

describe('a client against the truth', () => {
  it('finds nothing wrong with exactly the truth', () => {
    expect(compareWithTruth(['a', 'b', 'c'], ['a', 'b', 'c'])).toEqual({
      missed: 0,
      unexpected: 0,
      duplicated: 0,
      outOfOrder: 0,
    });
  });

  it('counts missed, unexpected, repeated and reordered events', () => {
    expect(compareWithTruth(['a', 'c', 'b', 'c', 'x'], ['a', 'b', 'c', 'd'])).toEqual({
      missed: 1,
      unexpected: 1,
      duplicated: 1,
      outOfOrder: 1,
    });
  });
});
