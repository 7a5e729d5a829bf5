import { describe, expect, it } from 'vitest';
import { readStreamAnswer, retryAfterMs } from '#src/streamAnswer.ts';

const now = Date.parse('2026-03-01T12:00:00Z');

describe('the answer to a stream request', () => {
  it.each([
    [400, 'validation_failed'],
    [401, 'unauthenticated'],
    [403, 'forbidden'],
    [404, 'not_found'],
  ])('%i from a proxy, without an envelope, is a refusal: %s', async (status, code) => {
    const answer = await readStreamAnswer(new Response('<html>no</html>', { status }), now);
    expect(answer).toEqual({
      kind: 'refused',
      refusal: { code, message: `the stream was refused with ${status}` },
    });
  });

  it("is the hub's own refusal when it comes in the error envelope", async () => {
    const envelope = { ok: false, error: { code: 'forbidden', message: 'neither yours nor shared' } };
    const answer = await readStreamAnswer(Response.json(envelope, { status: 403 }), now);
    expect(answer).toEqual({ kind: 'refused', refusal: envelope.error });
  });

  it.each([408, 425, 429, 500, 502, 503, 504, 407])(
    '%i is a passing trouble, asked again',
    async (status) => {
      const answer = await readStreamAnswer(new Response('busy', { status }), now);
      expect(answer).toEqual({
        kind: 'passing',
        reason: `the stream was answered ${status}`,
        retryAfterMs: undefined,
      });
    },
  );

  it('carries Retry-After with a passing trouble', async () => {
    const answer = await readStreamAnswer(
      new Response(null, { status: 429, headers: { 'retry-after': '7' } }),
      now,
    );
    expect(answer).toMatchObject({ kind: 'passing', retryAfterMs: 7_000 });
  });

  it('is the stream when it is a 200 with a body', async () => {
    const answer = await readStreamAnswer(new Response('event: heartbeat\ndata: {}\n\n'), now);
    expect(answer.kind).toBe('stream');
  });
});

describe('Retry-After', () => {
  it('reads whole seconds and HTTP dates', () => {
    expect(retryAfterMs('0', now)).toBe(0);
    expect(retryAfterMs(' 120 ', now)).toBe(120_000);
    expect(retryAfterMs('Sun, 01 Mar 2026 12:00:05 GMT', now)).toBe(5_000);
    expect(retryAfterMs('Sun, 01 Mar 2026 11:00:00 GMT', now)).toBe(0); // already past
  });

  it('is nothing when absent or unreadable', () => {
    for (const header of [null, '', 'soon', '-1', '1.5']) expect(retryAfterMs(header, now)).toBeUndefined();
  });
});
