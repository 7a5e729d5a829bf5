import { describe, expect, it } from 'vitest';
import { EventId } from '#src/envelope.ts';
import { deterministicEventId, newEventId } from '#src/eventIds.ts';

describe('event ids', () => {
  it('are valid envelope ids, and fresh ones sort by time of making', () => {
    const ids = Array.from({ length: 50 }, () => newEventId());
    for (const id of ids) expect(EventId.safeParse(id).success).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
  });

  it('are the same for the same fact, and differ between facts', () => {
    expect(deterministicEventId('job-1/submitted/attempt-1')).toBe(
      deterministicEventId('job-1/submitted/attempt-1'),
    );
    expect(deterministicEventId('job-1/submitted/attempt-1')).not.toBe(
      deterministicEventId('job-1/submitted/attempt-2'),
    );
    expect(EventId.safeParse(deterministicEventId('x')).success).toBe(true);
  });
});
