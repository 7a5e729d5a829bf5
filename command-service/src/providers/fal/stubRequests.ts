import type { StubReply } from '#src/providers/stubs/httpServer.ts';

/** How the next request fails: a runner error, a validation error (422), or every image flagged NSFW. */
export type FalJobFailure = 'runner' | 'validation' | 'nsfw';

export type FalStubRequest = {
  id: string;
  app: string;
  input: Record<string, unknown>;
  state: 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED';
  logs: Array<{ message: string; level: string; timestamp: string }>;
  failure: FalJobFailure | 'canceled' | undefined;
  webhook: string | undefined;
};

/** What the fal stub answers at a finished request's response URL. */
export const falStubResult = (r: FalStubRequest, origin: string): StubReply => {
  if (r.failure === 'canceled') {
    return { status: 400, body: { detail: 'Request was cancelled', error_type: 'request_cancelled' } };
  }
  if (r.failure === 'runner') {
    return { status: 503, body: { detail: 'Runner disconnected', error_type: 'runner_disconnected' } };
  }
  if (r.failure === 'validation') {
    const detail = [{ loc: ['body', 'prompt'], msg: 'field required', type: 'value_error.missing' }];
    return { status: 422, body: { detail } };
  }
  const file = (i: number) => ({ url: `${origin}/files/${r.id}/${i}.png`, content_type: 'image/png' });
  if (r.app.includes('video')) return { status: 200, body: { video: file(0) } };
  const images = Array.from({ length: Math.max(1, Number(r.input.num_images ?? 1)) }, (_, i) => file(i));
  return {
    status: 200,
    body: { images, seed: 1234, has_nsfw_concepts: images.map(() => r.failure === 'nsfw') },
  };
};

/** What the fal stub answers at a request's status URL. */
export const falStubStatus = (r: FalStubRequest): StubReply => {
  const failed = r.state === 'COMPLETED' && (r.failure === 'canceled' || r.failure === 'runner');
  const error = r.failure === 'canceled' ? 'Request was cancelled' : 'Runner disconnected';
  const errorType = r.failure === 'canceled' ? 'request_cancelled' : 'runner_disconnected';
  return {
    status: r.state === 'COMPLETED' ? 200 : 202,
    body: {
      status: r.state,
      ...(r.state === 'IN_QUEUE' ? { queue_position: 0 } : {}),
      logs: r.logs,
      ...(failed ? { error, error_type: errorType } : {}),
    },
  };
};
