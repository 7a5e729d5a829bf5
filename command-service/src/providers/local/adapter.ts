import { createHash } from 'node:crypto';
import type { CatalogModel } from '@kiln/contracts/catalog';
import { malformedAnswer } from '#src/providers/errors.ts';
import { callProvider, trimBase } from '#src/providers/http.ts';
import { LocalJobView, type LocalInput } from '#src/providers/local/api.ts';
import { recentLogLines } from '#src/providers/logs.ts';
import {
  ProviderError,
  type CallOptions,
  type ProviderAdapter,
  type ProviderJobRequest,
  type ProviderStatus,
} from '#src/providers/port.ts';
import { verifyStandardWebhook } from '#src/providers/standardWebhook.ts';

export type LocalAdapterOptions = {
  baseUrl: string;
  /** The secret the local provider signs webhooks with; without it no webhook is accepted. */
  webhookSecret?: string;
  token?: string;
};

/** A request without a seed still renders the same picture on every attempt: the seed comes from the job. */
const seedOf = (request: ProviderJobRequest): number =>
  request.request.seed ?? createHash('sha256').update(request.jobId).digest().readUInt32BE(0);

const inputOf = (request: ProviderJobRequest): Partial<LocalInput> => {
  const { request: asked } = request;
  const base = { prompt: asked.prompt, seed: seedOf(request), width: asked.width, height: asked.height };
  return asked.kind === 'image'
    ? { ...base, count: asked.count }
    : { ...base, durationSeconds: asked.durationSeconds, fps: asked.fps };
};

export const statusOfLocalJob = (job: LocalJobView): ProviderStatus => {
  const logs = recentLogLines(job.logs);
  switch (job.status) {
    case 'queued':
      return {
        state: 'queued',
        logs,
        ...(job.queue_position === null ? {} : { queuePosition: job.queue_position }),
      };
    case 'running':
      return {
        state: 'running',
        logs,
        ...(job.progress === null ? {} : { progress: job.progress }),
        ...(job.step === null ? {} : { step: job.step }),
      };
    case 'succeeded':
      return {
        state: 'succeeded',
        outputs: job.outputs.map((o) => ({ url: o.url, contentType: o.content_type })),
      };
    case 'canceled':
      return { state: 'canceled' };
    case 'failed': {
      const code = job.error?.code;
      if (code === 'content_filtered') return { state: 'failed', code: 'content_filtered', retryable: false };
      if (code === 'render_failed') return { state: 'failed', code: 'output_invalid', retryable: false };
      return { state: 'failed', code: 'provider_error', retryable: true };
    }
  }
};

/** Kiln's adapter for its built-in local provider (local/server.ts), over that provider's HTTP API. */
export const createLocalAdapter = (options: LocalAdapterOptions): ProviderAdapter => {
  const base = trimBase(options.baseUrl);
  const headers = options.token ? { authorization: `Bearer ${options.token}` } : {};

  const create = async (request: ProviderJobRequest, kind: CatalogModel['kind'], call?: CallOptions) => {
    if (request.model.kind !== kind || request.request.kind !== kind) {
      throw new ProviderError('provider_rejected', `the model does not make ${kind}s`, { retryable: false });
    }
    const answer = await callProvider(LocalJobView, {
      method: 'POST',
      url: `${base}/jobs`,
      headers: { ...headers, 'idempotency-key': request.idempotencyKey },
      body: {
        model: request.model.providerModel,
        input: inputOf(request),
        ...(request.webhookUrl ? { webhook: request.webhookUrl } : {}),
      },
      signal: call?.signal,
    });
    return { providerJobId: answer.body.id };
  };

  const getJob = async (id: string, call?: CallOptions) =>
    (
      await callProvider(LocalJobView, {
        method: 'GET',
        url: `${base}/jobs/${encodeURIComponent(id)}`,
        headers,
        signal: call?.signal,
      })
    ).body;

  return {
    name: 'local',
    idempotentCreates: true,
    createImageJob: (request, call) => create(request, 'image', call),
    createVideoJob: (request, call) => create(request, 'video', call),
    getStatus: async (id, _model, call) => statusOfLocalJob(await getJob(id, call)),
    async getResult(id, _model, call) {
      const status = statusOfLocalJob(await getJob(id, call));
      if (status.state !== 'succeeded') {
        throw new ProviderError('provider_error', 'the provider has no result for this job', {
          retryable: false,
        });
      }
      return status.outputs;
    },
    async cancel(id, _model, call) {
      const job = (
        await callProvider(LocalJobView, {
          method: 'POST',
          url: `${base}/jobs/${encodeURIComponent(id)}/cancel`,
          headers,
          signal: call?.signal,
        })
      ).body;
      if (job.status === 'canceled') return 'canceled';
      return job.status === 'succeeded' || job.status === 'failed' ? 'finished' : 'requested';
    },
    readWebhook: (request) =>
      Promise.resolve().then(() => {
        const { deliveryId, payload } = verifyStandardWebhook('local', options.webhookSecret, request);
        const job = LocalJobView.safeParse(payload);
        if (!job.success) throw malformedAnswer();
        return { deliveryId, providerJobId: job.data.id, status: statusOfLocalJob(job.data) };
      }),
  };
};
