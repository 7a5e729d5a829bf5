// The replay timeline of an account: one step per ledger entry, oldest first, and which one a page asks for.
import type { LedgerEntry } from '@kiln/contracts/views';

export type ReplayStep = Pick<LedgerEntry, 'position' | 'at' | 'kind' | 'description'> & {
  /** 1 for the account's first entry. */
  step: number;
};

export const replayStepsOf = (oldestFirst: readonly LedgerEntry[]): ReplayStep[] =>
  oldestFirst.map((entry, index) => ({
    step: index + 1,
    position: entry.position,
    at: entry.at,
    kind: entry.kind,
    description: entry.description,
  }));

/**
 * The step a page asked for (`?step=`), within the timeline: the last one (now) when it asked for none,
 * or for one that is not a whole number; the nearest end when it is out of range.
 */
export const chosenStep = (steps: readonly ReplayStep[], asked: string | null): ReplayStep | null => {
  const last = steps.at(-1) ?? null;
  if (!last || asked === null || !/^\d+$/.test(asked)) return last;
  const step = Math.min(Math.max(Number(asked), 1), last.step);
  return steps[step - 1] ?? last;
};
