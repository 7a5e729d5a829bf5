import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '@kiln/contracts/views';
import { chosenStep, replayStepsOf } from '../src/billing/replaySteps.ts';

const entry = (n: number, kind: LedgerEntry['kind']): LedgerEntry => ({
  accountId: 'a_1',
  eventId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  kind,
  availableChange: 0,
  reservedChange: 0,
  availableAfter: 0,
  reservedAfter: 0,
  jobId: null,
  description: `entry ${n}`,
  actor: { kind: 'system', id: 'kiln' },
  at: `2026-12-01T10:00:0${n}.000Z`,
  position: `000000000000000${n}-0000000000000000`,
});

const steps = replayStepsOf([entry(1, 'opened'), entry(2, 'granted'), entry(3, 'reserved')]);

describe('the replay timeline', () => {
  it('numbers the ledger entries from the oldest, keeping where and when each happened', () => {
    expect(steps.map((step) => [step.step, step.kind, step.position])).toEqual([
      [1, 'opened', '0000000000000001-0000000000000000'],
      [2, 'granted', '0000000000000002-0000000000000000'],
      [3, 'reserved', '0000000000000003-0000000000000000'],
    ]);
  });

  it('chooses the step asked for, the last one when none is, and the nearest end past either end', () => {
    expect(chosenStep(steps, '2')?.step).toBe(2);
    expect(chosenStep(steps, null)?.step).toBe(3);
    expect(chosenStep(steps, '0')?.step).toBe(1);
    expect(chosenStep(steps, '99')?.step).toBe(3);
    expect(chosenStep(steps, 'yesterday')?.step).toBe(3);
    expect(chosenStep(steps, '-1')?.step).toBe(3);
    expect(chosenStep([], '1')).toBeNull();
  });
});
