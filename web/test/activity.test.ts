import { describe, expect, it } from 'vitest';
import { activityText } from '../src/jobs/activity.ts';

describe('a job’s activity in words', () => {
  it.each([
    [{ type: 'JobProgressed', data: { step: 'rendering', progress: 0.4 } }, 'rendering (40%)'],
    [{ type: 'JobProgressed', data: {} }, 'working'],
    [{ type: 'JobProviderSubmitted', data: { provider: 'local' } }, 'sent to local'],
    [
      { type: 'JobProviderAttemptFailed', data: { attempt: 2, retryable: true } },
      'attempt 2 failed; trying again',
    ],
    [{ type: 'JobProviderAttemptFailed', data: { attempt: 'x' } }, 'attempt ? failed'],
    [
      { type: 'JobFailed', data: { message: 'the output was not an image' } },
      'failed: the output was not an image',
    ],
    [{ type: 'JobArtifactsStored', data: {} }, 'files stored'],
    [{ type: 'SomethingNew', data: {} }, 'SomethingNew'],
  ])('%o reads “%s”', (event, expected) => {
    expect(activityText(event)).toBe(expected);
  });
});
