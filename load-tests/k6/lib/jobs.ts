// Jobs through the command API: small images of the local provider, so what is measured is Kiln (events,
// billing, fan-out), not the rendering.
import { config } from './config.ts';
import { dataOf, request, type Answer } from './http.ts';
import type { LoadUser } from './users.ts';

export type Accepted = { jobId: string; cost: number; position: string };

export const jobBody = (seed: number, sessionId?: string) => ({
  request: {
    kind: 'image',
    modelId: 'kiln-local-image',
    prompt: `a kiln under load, number ${seed}`,
    width: 64,
    height: 64,
    count: 1,
    seed,
  },
  ...(sessionId === undefined ? {} : { sessionId }),
});

export const JOB_TERMINAL_TYPES = ['JobCompleted', 'JobFailed', 'JobCanceled', 'JobTimedOut'];
export const JOB_TERMINAL_STATUSES = ['completed', 'failed', 'canceled', 'timed_out'];

/**
 * `POST /v1/jobs` with an idempotency key; `expect` names the statuses this caller plans for, and
 * `retryConflicts` asks again after a retryable 409 (with the same key, as a client should).
 */
export const createJob = (
  user: LoadUser,
  key: string,
  body: ReturnType<typeof jobBody>,
  options: { expect?: number[]; name?: string; retryConflicts?: boolean } = {},
): { answer: Answer; accepted: Accepted | undefined } => {
  const answer = request({
    method: 'POST',
    url: `${config.commandUrl}/v1/jobs`,
    token: user.token,
    name: options.name ?? 'POST /v1/jobs',
    expect: options.expect ?? [202],
    headers: { 'idempotency-key': key },
    body,
    retryConflicts: options.retryConflicts ?? false,
  });
  return { answer, accepted: answer.status === 202 ? dataOf<Accepted>(answer) : undefined };
};

/** Cancels at once: 202 (canceled, or asked of the provider), 409 when it had finished already. */
export const cancelJob = (user: LoadUser, jobId: string): Answer =>
  request({
    method: 'POST',
    url: `${config.commandUrl}/v1/jobs/${jobId}/cancel`,
    token: user.token,
    name: 'POST /v1/jobs/:id/cancel',
    expect: [202, 409],
    body: { reason: 'load test' },
  });
