import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findModel, type CatalogModel } from '@kiln/contracts/catalog';
import type { GenerationRequest } from '@kiln/contracts/job/request';
import {
  InvalidWebhookSignature,
  ProviderError,
  type ProviderAdapter,
  type ProviderStatus,
} from '#src/providers/port.ts';
import { createReplicateAdapter } from '#src/providers/replicate/adapter.ts';
import { startReplicateStub, type ReplicateStub } from '#src/providers/replicate/stub.ts';
import { startWebhookReceiver } from '#src/providers/stubs/webhookReceiver.ts';
import { standardWebhookHeaders } from '#src/providers/webhookDelivery.ts';

const model = findModel('flux-schnell') as CatalogModel;
const request: GenerationRequest = {
  kind: 'image',
  modelId: model.id,
  prompt: 'a lighthouse',
  width: 1024,
  height: 576,
  count: 2,
  seed: 9,
};
const job = (extra: { webhookUrl?: string; model?: CatalogModel } = {}) => ({
  jobId: 'job-1',
  attempt: 1,
  idempotencyKey: 'job-1/attempt-1',
  model: extra.model ?? model,
  request,
  inputs: [],
  ...(extra.webhookUrl ? { webhookUrl: extra.webhookUrl } : {}),
});

const settle = async (adapter: ProviderAdapter, id: string, seen: ProviderStatus[] = []) => {
  for (let i = 0; i < 200; i += 1) {
    const status = await adapter.getStatus(id, model);
    seen.push(status);
    if (!['queued', 'running'].includes(status.state)) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the prediction never ended');
};

describe('the Replicate adapter against the Replicate stub', () => {
  let stub: ReplicateStub;
  let adapter: ProviderAdapter;
  beforeAll(async () => {
    stub = await startReplicateStub({ delayMs: 90 });
    adapter = createReplicateAdapter({
      token: stub.token,
      webhookSecret: stub.webhookSecret,
      baseUrl: stub.url,
    });
  });
  afterEach(() => stub.clearFaults());
  afterAll(() => stub.close());

  it('creates a prediction on the official model endpoint, follows it and reads its outputs', async () => {
    stub.tuneNext({ delayMs: 900 }); // time enough to see it queued on a loaded machine
    const { providerJobId } = await adapter.createImageJob(job());
    const made = stub.predictions.get(providerJobId);
    expect(made?.model).toBe('black-forest-labs/flux-schnell');
    expect(made?.input).toEqual({
      prompt: 'a lighthouse',
      aspect_ratio: '16:9',
      seed: 9,
      num_outputs: 2,
      output_format: 'png',
    });
    const seen: ProviderStatus[] = [];
    const done = await settle(adapter, providerJobId, seen);
    expect(seen[0]).toMatchObject({ state: 'queued' });
    expect(seen.some((status) => status.state === 'running' && status.progress === 0.5)).toBe(true);
    expect(done).toMatchObject({
      state: 'succeeded',
      outputs: [{ contentType: 'image/png' }, { contentType: 'image/png' }],
    });
    const outputs = await adapter.getResult(providerJobId, model);
    expect((await fetch(outputs[0]!.url)).headers.get('content-type')).toBe('image/png');
  });

  it('creates by version for a model named owner/name:version', async () => {
    const versioned = {
      ...model,
      providerModel: 'someone/custom:5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa',
    };
    const { providerJobId } = await adapter.createImageJob(job({ model: versioned }));
    expect(stub.predictions.get(providerJobId)?.version).toBe(
      '5c7d5dc6dd8bf75c1acaa8565735e7986bc5b66206b55cca93cb72c9bf15ccaa',
    );
  });

  it('cancels a running prediction, and says a finished one is finished', async () => {
    const running = await adapter.createImageJob(job());
    expect(await adapter.cancel(running.providerJobId, model)).toBe('canceled');
    expect(await adapter.getStatus(running.providerJobId, model)).toEqual({ state: 'canceled' });
    const finished = await adapter.createImageJob(job());
    await settle(adapter, finished.providerJobId);
    expect(await adapter.cancel(finished.providerJobId, model)).toBe('finished');
  });

  it("maps failed predictions by Replicate's error: NSFW to content_filtered, the rest to provider_error", async () => {
    stub.failJobNext('NSFW content detected. Try running it again, or try a different prompt.');
    const nsfw = await adapter.createImageJob(job());
    expect(await settle(adapter, nsfw.providerJobId)).toEqual({
      state: 'failed',
      code: 'content_filtered',
      retryable: false,
    });
    stub.failJobNext();
    const crashed = await adapter.createImageJob(job());
    expect(await settle(adapter, crashed.providerJobId)).toEqual({
      state: 'failed',
      code: 'provider_error',
      retryable: true,
    });
  });

  it('reads signed webhooks and refuses tampered, old or foreign ones', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { providerJobId } = await adapter.createImageJob(
        job({ webhookUrl: `${receiver.url}/hooks/replicate` }),
      );
      const completed = await receiver.waitFor((hook) => hook.rawBody.toString().includes('"succeeded"'));
      const states = await Promise.all(
        receiver.received.map(async (hook) => (await adapter.readWebhook(hook)).status.state),
      );
      expect(states[0]).toBe('queued');
      expect(states).toContain('running');
      const read = await adapter.readWebhook(completed);
      expect(read).toMatchObject({
        providerJobId,
        deliveryId: completed.headers['webhook-id'],
        status: { state: 'succeeded' },
      });

      const tampered = {
        ...completed,
        rawBody: Buffer.from(completed.rawBody.toString().replace('succeeded', 'failed')),
      };
      await expect(adapter.readWebhook(tampered)).rejects.toBeInstanceOf(InvalidWebhookSignature);
      const body = completed.rawBody.toString();
      const old = standardWebhookHeaders(
        stub.webhookSecret,
        'msg_old',
        body,
        new Date(Date.now() - 10 * 60_000),
      );
      await expect(adapter.readWebhook({ headers: old, rawBody: Buffer.from(body) })).rejects.toBeInstanceOf(
        InvalidWebhookSignature,
      );
      const foreign = standardWebhookHeaders('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_x', body);
      await expect(
        adapter.readWebhook({ headers: foreign, rawBody: Buffer.from(body) }),
      ).rejects.toBeInstanceOf(InvalidWebhookSignature);
      const unsigned = { headers: {}, rawBody: Buffer.from(body) };
      await expect(adapter.readWebhook(unsigned)).rejects.toBeInstanceOf(InvalidWebhookSignature);
    } finally {
      await receiver.close();
    }
  });

  it('turns a malformed answer into a retryable provider_error', async () => {
    const { providerJobId } = await adapter.createImageJob(job());
    stub.malformedNext('status');
    await expect(adapter.getStatus(providerJobId, model)).rejects.toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
  });

  it("maps Replicate's error statuses to Kiln's codes", async () => {
    stub.failNext([
      {
        on: 'create',
        status: 422,
        body: { title: 'Input validation failed', detail: '- input.num_outputs: Must be <= 4', status: 422 },
      },
      { on: 'create', status: 429, retryAfter: 3 },
      { on: 'create', status: 503 },
      { on: 'create', status: 402, body: { title: 'Insufficient credit', status: 402 } },
    ]);
    const failures = [];
    for (let i = 0; i < 4; i += 1)
      failures.push(await adapter.createImageJob(job()).catch((error: unknown) => error));
    expect(
      failures.map(
        (error) =>
          error instanceof ProviderError && [
            error.code,
            error.retryable,
            error.retryAfterMs,
            error.limit,
            error.safeToRepeat,
          ],
      ),
    ).toEqual([
      ['provider_rejected', false, undefined, undefined, false],
      ['provider_unavailable', true, 3000, 'rate', true],
      ['provider_unavailable', true, undefined, undefined, false],
      ['provider_unavailable', false, undefined, 'quota', false],
    ]);
  });

  it('never puts the token or the base URL in an error message', async () => {
    const stranger = createReplicateAdapter({ token: 'r8_wrong_token_123', baseUrl: stub.url });
    const closed = createReplicateAdapter({ token: stub.token, baseUrl: 'http://127.0.0.1:1/v1' });
    stub.failNext([
      { on: 'status', status: 500 },
      { on: 'status', reset: true },
    ]);
    stub.malformedNext('status');
    const errors = await Promise.all([
      stranger.getStatus('abc', model).catch((error: unknown) => error),
      closed.getStatus('abc', model).catch((error: unknown) => error),
      adapter.getStatus('abc', model).catch((error: unknown) => error),
      adapter.getStatus('abc', model).catch((error: unknown) => error),
      adapter.getStatus('abc', model).catch((error: unknown) => error),
      adapter.getStatus('nope', model).catch((error: unknown) => error),
    ]);
    const host = new URL(stub.url).host;
    for (const error of errors) {
      expect(error).toBeInstanceOf(ProviderError);
      const text = `${(error as Error).message} ${JSON.stringify(error)}`;
      for (const secret of [stub.token, 'r8_wrong_token_123', stub.webhookSecret, host, '127.0.0.1:1'])
        expect(text).not.toContain(secret);
    }
  });
});
