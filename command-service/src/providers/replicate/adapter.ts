import type { CatalogModel } from '@kiln/contracts/catalog';
import { malformedAnswer } from '#src/providers/errors.ts';
import { callProvider, trimBase } from '#src/providers/http.ts';
import {
  ProviderError,
  type CallOptions,
  type ProviderAdapter,
  type ProviderJobRequest,
} from '#src/providers/port.ts';
import { replicateInputOf } from '#src/providers/replicate/input.ts';
import { ReplicatePrediction, statusOfPrediction } from '#src/providers/replicate/prediction.ts';
import { verifyStandardWebhook } from '#src/providers/standardWebhook.ts';

export type ReplicateAdapterOptions = {
  /** An API token (`r8_…`), sent as `Authorization: Bearer`. */
  token: string;
  /** The account's webhook signing secret (`whsec_…`, from GET /v1/webhooks/default/secret). */
  webhookSecret?: string;
  /** Default https://api.replicate.com/v1; tests point it at the stub. */
  baseUrl?: string;
};

export const REPLICATE_API = 'https://api.replicate.com/v1';

/** Every event Kiln follows: start, new logs (progress), new output, and the end. */
const WEBHOOK_EVENTS = ['start', 'output', 'logs', 'completed'];

/**
 * Replicate's HTTP API (https://replicate.com/docs/reference/http).
 *
 * Duplicate predictions: Replicate has no idempotency key for creating a prediction, so a create that
 * may have reached it is never sent again. `idempotentCreates` is false, and a failed create carries
 * `safeToRepeat` only when the answer proves nothing was made: a 429, or a connection that was refused
 * before the request went out. A timeout, a reset connection or a 5xx after sending is ambiguous: the
 * error goes up (retryable, without `safeToRepeat`) and the runner decides, knowing a prediction may
 * exist: a prediction it never learnt the id of still reports to the webhook URL of its attempt.
 */
export const createReplicateAdapter = (options: ReplicateAdapterOptions): ProviderAdapter => {
  const base = trimBase(options.baseUrl ?? REPLICATE_API);
  const headers = { authorization: `Bearer ${options.token}` };

  const createUrl = (model: CatalogModel): { url: string; version?: string } => {
    const [name = '', version] = model.providerModel.split(':');
    if (version) return { url: `${base}/predictions`, version };
    const [owner, modelName] = name.split('/');
    if (!owner || !modelName) {
      throw new ProviderError('internal', 'the catalog names no Replicate model for this job', {
        retryable: false,
      });
    }
    return {
      url: `${base}/models/${encodeURIComponent(owner)}/${encodeURIComponent(modelName)}/predictions`,
    };
  };

  const create = async (job: ProviderJobRequest, kind: CatalogModel['kind'], call?: CallOptions) => {
    if (job.model.kind !== kind || job.request.kind !== kind) {
      throw new ProviderError('provider_rejected', `the model does not make ${kind}s`, { retryable: false });
    }
    const target = createUrl(job.model);
    const answer = await callProvider(ReplicatePrediction, {
      method: 'POST',
      url: target.url,
      headers,
      body: {
        ...(target.version ? { version: target.version } : {}),
        input: replicateInputOf(job),
        ...(job.webhookUrl ? { webhook: job.webhookUrl, webhook_events_filter: WEBHOOK_EVENTS } : {}),
      },
      signal: call?.signal,
    });
    return { providerJobId: answer.body.id };
  };

  const getPrediction = async (id: string, call?: CallOptions) =>
    (
      await callProvider(ReplicatePrediction, {
        method: 'GET',
        url: `${base}/predictions/${encodeURIComponent(id)}`,
        headers,
        signal: call?.signal,
      })
    ).body;

  return {
    name: 'replicate',
    idempotentCreates: false,
    createImageJob: (job, call) => create(job, 'image', call),
    createVideoJob: (job, call) => create(job, 'video', call),
    getStatus: async (id, _model, call) => statusOfPrediction(await getPrediction(id, call)),
    async getResult(id, _model, call) {
      const status = statusOfPrediction(await getPrediction(id, call));
      if (status.state !== 'succeeded') {
        throw new ProviderError('provider_error', 'the provider has no result for this job', {
          retryable: false,
        });
      }
      return status.outputs;
    },
    async cancel(id, _model, call) {
      const prediction = (
        await callProvider(ReplicatePrediction, {
          method: 'POST',
          url: `${base}/predictions/${encodeURIComponent(id)}/cancel`,
          headers,
          signal: call?.signal,
        })
      ).body;
      if (prediction.status === 'canceled') return 'canceled';
      return prediction.status === 'starting' || prediction.status === 'processing'
        ? 'requested'
        : 'finished';
    },
    readWebhook: (request) =>
      Promise.resolve().then(() => {
        const { deliveryId, payload } = verifyStandardWebhook('replicate', options.webhookSecret, request);
        const prediction = ReplicatePrediction.safeParse(payload);
        if (!prediction.success) throw malformedAnswer();
        return { deliveryId, providerJobId: prediction.data.id, status: statusOfPrediction(prediction.data) };
      }),
  };
};
