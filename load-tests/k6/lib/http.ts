// HTTP calls to Kiln with the statuses each call expects: anything else is counted in `unexpected_status`
// (a threshold of zero in every scenario) and is a failed request in `http_req_failed`.
import { sleep } from 'k6';
import http, { type RefinedResponse, type ResponseType } from 'k6/http';
import { Counter } from 'k6/metrics';

export const unexpectedStatus = new Counter('unexpected_status');
/** Refusals a scenario provokes on purpose (402, 429), by status: they must happen, and be well formed. */
export const expectedRefusals = new Counter('expected_refusals');
/** Retryable 409s (an optimistic write that lost the race too often) a call asked again after. */
export const conflictRetries = new Counter('conflict_retries');

export type Answer = RefinedResponse<ResponseType | undefined>;
type Call = {
  method: 'GET' | 'POST';
  url: string;
  /** A bearer token; empty for anonymous calls (sign-up). */
  token: string;
  /** The tag requests are grouped by in the results, e.g. `POST /v1/jobs`. */
  name: string;
  expect: number[];
  body?: unknown;
  headers?: Record<string, string>;
  tags?: Record<string, string>;
  /**
   * Asks again, after a short jittered wait, when the answer is a retryable 409 (`conflict`): what a
   * client of a busy shared stream (a session many join at once) must do. Only the last answer is judged.
   */
  retryConflicts?: boolean;
};

const MAX_CONFLICT_RETRIES = 8;

let reported = 0;

const paramsOf = (call: Call) => ({
  headers: {
    ...(call.token ? { authorization: `Bearer ${call.token}` } : {}),
    ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
    ...call.headers,
  },
  tags: { name: call.name, ...call.tags },
  responseCallback: http.expectedStatuses(...call.expect, ...(call.retryConflicts ? [409] : [])),
});

const isRetryableConflict = (call: Call, answer: Answer | undefined): boolean => {
  if (!call.retryConflicts || answer?.status !== 409) return false;
  try {
    return (answer.json() as { error?: { retryable?: boolean } }).error?.retryable === true;
  } catch {
    return false;
  }
};

/** 50 ms, 100 ms, 200 ms… each between half and one and a half times that. */
const backOff = (attempt: number) => sleep(0.05 * 2 ** attempt * (0.5 + Math.random()));

/** Counts an answer whose status the call did not expect, and says what it was (the first few). */
export const judge = (call: Pick<Call, 'name' | 'expect'>, answer: Answer): boolean => {
  if (call.expect.includes(answer.status)) return true;
  unexpectedStatus.add(1, { name: call.name, status: String(answer.status) });
  if (reported < 5) {
    reported += 1;
    console.warn(`${call.name}: ${answer.status} ${textOf(answer).slice(0, 300)}`);
  }
  return false;
};

export const request = (call: Call): Answer => {
  const body = call.body === undefined ? null : JSON.stringify(call.body);
  let answer = http.request(call.method, call.url, body, paramsOf(call));
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES && isRetryableConflict(call, answer); attempt += 1) {
    conflictRetries.add(1, { name: call.name });
    backOff(attempt);
    answer = http.request(call.method, call.url, body, paramsOf(call));
  }
  judge(call, answer);
  return answer;
};

const batch = (calls: Call[]): Answer[] =>
  http.batch(
    calls.map((call) => ({
      method: call.method,
      url: call.url,
      body: call.body === undefined ? null : JSON.stringify(call.body),
      params: paramsOf(call),
    })),
  );

/** Several calls at once (set-ups): one answer per call, in order. */
export const requestAll = (calls: Call[]): Answer[] => {
  const answers = batch(calls);
  for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt += 1) {
    const again = calls.flatMap((call, index) => (isRetryableConflict(call, answers[index]) ? [index] : []));
    if (again.length === 0) break;
    conflictRetries.add(again.length, { name: calls[again[0] ?? 0]?.name ?? '' });
    backOff(attempt);
    batch(again.map((index) => calls[index] as Call)).forEach((answer, at) => {
      answers[again[at] ?? 0] = answer;
    });
  }
  calls.forEach((call, index) => {
    const answer = answers[index];
    if (answer) judge(call, answer);
  });
  return answers;
};

/** An answer's body as text ('' when there is none). */
export const textOf = (answer: Answer): string => (typeof answer.body === 'string' ? answer.body : '');

/** `data` of an `{ ok: true, data }` answer; undefined for anything else. */
export const dataOf = <Data>(answer: Answer): Data | undefined => {
  try {
    const body = answer.json() as { ok?: boolean; data?: Data } | null;
    return body?.ok ? body.data : undefined;
  } catch {
    return undefined;
  }
};

/** In chunks of `size`, so a set-up does not open hundreds of connections at once. */
export const inChunks = <Item>(items: Item[], size: number): Item[][] => {
  const chunks: Item[][] = [];
  for (let from = 0; from < items.length; from += size) chunks.push(items.slice(from, from + size));
  return chunks;
};
