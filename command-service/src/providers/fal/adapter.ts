import type { CatalogModel } from '@kiln/contracts/catalog';
import { errorFromResponse, malformedAnswer } from '#src/providers/errors.ts';
import { falInputOf } from '#src/providers/fal/input.ts';
import { falFailure, falFailureOfBody, statusOfFalResult, wasCanceled } from '#src/providers/fal/results.ts';
import {
  FalCancelAnswer,
  FalErrorBody,
  FalQueueStatus,
  FalResult,
  FalSubmitted,
  FalWebhookBody,
} from '#src/providers/fal/schemas.ts';
import {
  createFalWebhookVerifier,
  type FalWebhookVerifierOptions,
} from '#src/providers/fal/webhookSignature.ts';
import { callProvider, trimBase } from '#src/providers/http.ts';
import { progressFromLogs, recentLogLines } from '#src/providers/logs.ts';
import {
  InvalidWebhookSignature,
  ProviderError,
  type CallOptions,
  type ProviderAdapter,
  type ProviderJobRequest,
  type ProviderStatus,
} from '#src/providers/port.ts';

export type FalAdapterOptions = {
  /** A fal API key, sent as `Authorization: Key <key>`. */
  key: string;
  /** Default https://queue.fal.run; tests point it at the stub. */
  baseUrl?: string;
  /** Where fal's webhook keys come from, and how long they are kept. */
  webhooks?: FalWebhookVerifierOptions;
};

export const FAL_QUEUE = 'https://queue.fal.run';

/** Status, result and cancel URLs use the model's owner and app only, without its endpoint path. */
const appOf = (model: CatalogModel): string => model.providerModel.split('/').slice(0, 2).join('/');

/**
 * fal's queue API (https://docs.fal.ai/model-apis/model-endpoints/queue).
 *
 * Duplicate requests: fal documents no idempotency key for submitting to its queue, so, as with
 * Replicate, a submit that may have reached fal is never sent again by Kiln (`idempotentCreates` false;
 * only a 429 or a refused connection is `safeToRepeat`). fal retries inside its own queue (5xx, timeouts,
 * 429 from the runner) without a second request from Kiln, and Kiln asks for no retry of its own there.
 */
export const createFalAdapter = (options: FalAdapterOptions): ProviderAdapter => {
  const base = trimBase(options.baseUrl ?? FAL_QUEUE);
  const headers = { authorization: `Key ${options.key}` };
  const verifier = createFalWebhookVerifier(options.webhooks);
  const requestUrl = (model: CatalogModel, id: string) =>
    `${base}/${appOf(model)}/requests/${encodeURIComponent(id)}`;

  const create = async (job: ProviderJobRequest, kind: CatalogModel['kind'], call?: CallOptions) => {
    if (job.model.kind !== kind || job.request.kind !== kind) {
      throw new ProviderError('provider_rejected', `the model does not make ${kind}s`, { retryable: false });
    }
    const webhook = job.webhookUrl ? `?fal_webhook=${encodeURIComponent(job.webhookUrl)}` : '';
    const answer = await callProvider(FalSubmitted, {
      method: 'POST',
      url: `${base}/${job.model.providerModel}${webhook}`,
      headers,
      body: falInputOf(job),
      signal: call?.signal,
    });
    return { providerJobId: answer.body.request_id };
  };

  const getResult = async (id: string, model: CatalogModel, call?: CallOptions): Promise<ProviderStatus> => {
    const answer = await callProvider(FalResult, {
      method: 'GET',
      url: requestUrl(model, id),
      headers,
      signal: call?.signal,
      accept: [422, 500, 502, 503, 504],
    });
    if (answer.status < 300) return statusOfFalResult(answer.body);
    // A request that failed answers at its response URL with its own status: the job's failure, not the
    // API's, when it carries fal's `error_type` (or is a 422 validation error).
    const body = FalErrorBody.safeParse(answer.body);
    if (answer.status !== 422 && !(body.success && body.data.error_type)) {
      throw errorFromResponse(answer.status, answer.headers);
    }
    return {
      state: 'failed',
      ...(body.success ? falFailureOfBody(body.data) : falFailure(undefined, undefined)),
    };
  };

  const getStatus = async (id: string, model: CatalogModel, call?: CallOptions): Promise<ProviderStatus> => {
    const { body } = await callProvider(FalQueueStatus, {
      method: 'GET',
      url: `${requestUrl(model, id)}/status?logs=1`,
      headers,
      signal: call?.signal,
    });
    const logs = recentLogLines(body.logs?.map((line) => line.message));
    if (body.status === 'IN_QUEUE') {
      return {
        state: 'queued',
        logs,
        ...(typeof body.queue_position === 'number' ? { queuePosition: body.queue_position } : {}),
      };
    }
    if (body.status === 'IN_PROGRESS') {
      const progress = progressFromLogs(logs);
      return { state: 'running', step: 'in progress', logs, ...(progress === undefined ? {} : { progress }) };
    }
    if (wasCanceled(body.error_type, body.error)) return { state: 'canceled' };
    if (body.error || body.error_type) return { state: 'failed', ...falFailure(body.error_type, body.error) };
    return getResult(id, model, call);
  };

  return {
    name: 'fal',
    idempotentCreates: false,
    createImageJob: (job, call) => create(job, 'image', call),
    createVideoJob: (job, call) => create(job, 'video', call),
    getStatus,
    async getResult(id, model, call) {
      const status = await getResult(id, model, call);
      if (status.state !== 'succeeded') {
        throw new ProviderError('provider_error', 'the provider has no result for this job', {
          retryable: false,
        });
      }
      return status.outputs;
    },
    async cancel(id, model, call) {
      const { status, body } = await callProvider(FalCancelAnswer, {
        method: 'PUT',
        url: `${requestUrl(model, id)}/cancel`,
        headers,
        signal: call?.signal,
        accept: [400, 404],
      });
      if (status === 404 || body.status === 'NOT_FOUND') {
        throw new ProviderError('provider_rejected', 'the provider does not know this job', {
          retryable: false,
        });
      }
      if (body.status === 'ALREADY_COMPLETED') return 'finished';
      return body.status === 'OK' ? 'canceled' : 'requested';
    },
    async readWebhook(request) {
      const verified = await verifier.verify(request);
      let json: unknown;
      try {
        json = JSON.parse(request.rawBody.toString('utf8'));
      } catch {
        throw malformedAnswer();
      }
      const body = FalWebhookBody.safeParse(json);
      if (!body.success) throw malformedAnswer();
      if (body.data.request_id !== verified.requestId) throw new InvalidWebhookSignature('fal');
      const status: ProviderStatus =
        body.data.status === 'OK'
          ? statusOfFalResult(FalResult.safeParse(body.data.payload).data ?? {})
          : wasCanceled(undefined, body.data.error)
            ? { state: 'canceled' }
            : { state: 'failed', ...webhookFailure(body.data) };
      // fal sends one webhook per request, at its end, and retries the same one: the request id names it.
      return { deliveryId: `${body.data.request_id}/completed`, providerJobId: body.data.request_id, status };
    },
  };
};

const webhookFailure = (body: FalWebhookBody) => {
  const detail = FalErrorBody.safeParse(body.payload);
  return detail.success && detail.data.detail !== undefined
    ? falFailureOfBody(detail.data)
    : falFailure(undefined, body.error);
};
