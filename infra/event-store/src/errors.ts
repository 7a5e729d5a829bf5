export { EventRejected } from '@kiln/contracts/events';

/** An append's expected revision was stale: someone else appended first. Nothing was written. */
export class WrongExpectedRevision extends Error {
  readonly code = 'wrong_expected_revision';
  readonly streamId: string;
  readonly expected: string;
  readonly actual: string;
  constructor(streamId: string, expected: string, actual: string) {
    super(`stream ${streamId}: expected revision ${expected}, but it is ${actual}`);
    this.name = 'WrongExpectedRevision';
    this.streamId = streamId;
    this.expected = expected;
    this.actual = actual;
  }
}

/**
 * Some events of an append were stored before and some not, or they were stored in another stream:
 * not a retry of one earlier append, so it is refused rather than half applied.
 */
export class DuplicateEventIds extends Error {
  readonly code = 'duplicate_event_ids';
  readonly streamId: string;
  constructor(streamId: string, detail: string) {
    super(`stream ${streamId}: ${detail}`);
    this.name = 'DuplicateEventIds';
    this.streamId = streamId;
  }
}
