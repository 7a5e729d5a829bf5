import { z } from 'zod';

/** Why a hub (or a proxy in front of it) will not serve a subscription: it ends with this. */
export type Refusal = { code: string; message: string };

/**
 * What the answer to a stream request (`GET /v1/stream`) means for the subscription: the stream; a
 * refusal that asking again would only repeat (400, 401, 403, 404); or a passing trouble to ask again
 * after (408, 425, 429, 5xx, anything else), when `Retry-After` says if it was given.
 */
export type StreamAnswer =
  | { kind: 'stream'; body: ReadableStream<Uint8Array> }
  | { kind: 'refused'; refusal: Refusal }
  | { kind: 'passing'; reason: string; retryAfterMs: number | undefined };

/** The statuses that end a subscription, with the code of the error envelope the hub sends with each. */
const refusalCodeOfStatus: Readonly<Record<number, string>> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
};

const ErrorEnvelope = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const readStreamAnswer = async (response: Response, now = Date.now()): Promise<StreamAnswer> => {
  const refusalCode = refusalCodeOfStatus[response.status];
  if (refusalCode !== undefined) {
    // A proxy refuses without Kiln's envelope: the status alone says why.
    const envelope = ErrorEnvelope.safeParse(await response.json().catch(() => undefined));
    return {
      kind: 'refused',
      refusal: envelope.success
        ? envelope.data.error
        : { code: refusalCode, message: `the stream was refused with ${response.status}` },
    };
  }
  if (response.ok && response.body) return { kind: 'stream', body: response.body };
  await response.body?.cancel();
  return {
    kind: 'passing',
    reason: `the stream was answered ${response.status}`,
    retryAfterMs: retryAfterMs(response.headers.get('retry-after'), now),
  };
};

/** `Retry-After` (whole seconds, or an HTTP date) as milliseconds from `now`; undefined if absent or unreadable. */
export const retryAfterMs = (header: string | null, now: number): number | undefined => {
  const value = header?.trim() ?? '';
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  const date = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
};
