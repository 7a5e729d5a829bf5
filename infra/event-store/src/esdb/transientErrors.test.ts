import {
  AccessDeniedError,
  CancelledError,
  DeadlineExceededError,
  StreamDeletedError,
  UnavailableError,
  WrongExpectedVersionError,
} from '@eventstore/db-client';
import { describe, expect, it } from 'vitest';
import { isTransientEsdbError } from '#src/esdb/transientErrors.ts';

describe('isTransientEsdbError', () => {
  it('says yes to the errors a new subscription outlives', () => {
    for (const error of [
      new UnavailableError(),
      new CancelledError(),
      new DeadlineExceededError(),
      Object.assign(new Error('14 UNAVAILABLE: Connection dropped'), { code: 14 }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      new Error('13 INTERNAL: Received RST_STREAM with code 2'),
    ]) {
      expect(isTransientEsdbError(error), error.message).toBe(true);
    }
  });

  it('says no to the ones that would fail again', () => {
    for (const error of [
      new AccessDeniedError(),
      StreamDeletedError.fromStreamName('job-1'),
      new WrongExpectedVersionError(undefined, { streamName: 'job-1', expected: 0n, current: 1n }),
      new Error('something else'),
    ]) {
      expect(isTransientEsdbError(error), error.message).toBe(false);
    }
    expect(isTransientEsdbError('UNAVAILABLE')).toBe(false);
  });
});
