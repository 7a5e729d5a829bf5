import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findModel, type CatalogModel } from '@kiln/contracts/catalog';
import type { GenerationRequest } from '@kiln/contracts/job/request';
import { createFalAdapter } from '#src/providers/fal/adapter.ts';
import { startFalStub, type FalStub } from '#src/providers/fal/stub.ts';
import type { ProviderError } from '#src/providers/port.ts';
import { InvalidWebhookSignature, type ProviderAdapter, type ProviderStatus } from '#src/providers/port.ts';
import { startWebhookReceiver } from '#src/providers/stubs/webhookReceiver.ts';

const flux = findModel('flux-dev') as CatalogModel;
const kling = findModel('kling-video') as CatalogModel;
const image: GenerationRequest = {
  kind: 'image',
  modelId: flux.id,
  prompt: 'a glass teapot',
  width: 768,
  height: 512,
  count: 2,
  seed: 3,
};
const video: GenerationRequest = {
  kind: 'video',
  modelId: kling.id,
  prompt: 'waves',
  width: 1280,
  height: 720,
  durationSeconds: 7,
  fps: 24,
};
const job = (request: GenerationRequest, extra: { webhookUrl?: string } = {}) => ({
  jobId: 'job-2',
  attempt: 1,
  idempotencyKey: 'job-2/attempt-1',
  model: request.kind === 'image' ? flux : kling,
  request,
  inputs: [],
  ...extra,
});

const settle = async (adapter: ProviderAdapter, id: string, model = flux, seen: ProviderStatus[] = []) => {
  for (let i = 0; i < 200; i += 1) {
    const status = await adapter.getStatus(id, model);
    seen.push(status);
    if (!['queued', 'running'].includes(status.state)) return status;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the request never ended');
};

describe('the fal adapter against the fal stub', () => {
  let stub: FalStub;
  let adapter: ProviderAdapter;
  beforeAll(async () => {
    stub = await startFalStub({ delayMs: 90 });
    adapter = createFalAdapter({ key: stub.key, baseUrl: stub.url, webhooks: { jwksUrl: stub.jwksUrl } });
  });
  afterEach(() => stub.clearFaults());
  afterAll(() => stub.close());

  it('submits to the full model path, follows queue position and logs, and reads the result', async () => {
    const { providerJobId } = await adapter.createImageJob(job(image));
    const made = stub.requests.get(providerJobId);
    expect(made?.app).toBe('fal-ai/flux/dev');
    expect(made?.input).toEqual({
      prompt: 'a glass teapot',
      seed: 3,
      image_size: { width: 768, height: 512 },
      num_images: 2,
      output_format: 'png',
      enable_safety_checker: true,
    });
    const seen: ProviderStatus[] = [];
    const done = await settle(adapter, providerJobId, flux, seen);
    expect(seen[0]).toEqual({ state: 'queued', queuePosition: 0, logs: [] });
    expect(
      seen.some((status) => status.state === 'running' && status.logs.includes('Starting inference')),
    ).toBe(true);
    expect(done).toMatchObject({
      state: 'succeeded',
      outputs: [{ contentType: 'image/png' }, { contentType: 'image/png' }],
    });
    expect(await adapter.getResult(providerJobId, flux)).toHaveLength(2);
  });

  it('makes videos with Kling inputs and reads the video output', async () => {
    const { providerJobId } = await adapter.createVideoJob(job(video));
    expect(stub.requests.get(providerJobId)?.input).toEqual({
      prompt: 'waves',
      duration: '10',
      aspect_ratio: '16:9',
    });
    expect(await settle(adapter, providerJobId, kling)).toMatchObject({
      state: 'succeeded',
      outputs: [{ url: expect.stringContaining('/files/') }],
    });
  });

  it('cancels a queued request, and says a finished one is finished', async () => {
    const queued = await adapter.createImageJob(job(image));
    expect(await adapter.cancel(queued.providerJobId, flux)).toBe('canceled');
    expect(await adapter.getStatus(queued.providerJobId, flux)).toEqual({ state: 'canceled' });
    const finished = await adapter.createImageJob(job(image));
    await settle(adapter, finished.providerJobId);
    expect(await adapter.cancel(finished.providerJobId, flux)).toBe('finished');
  });

  it('maps failed requests: validation, runner errors, and images all flagged NSFW', async () => {
    const outcomes = [];
    for (const how of ['validation', 'runner', 'nsfw'] as const) {
      stub.failJobNext(how);
      const { providerJobId } = await adapter.createImageJob(job(image));
      outcomes.push(await settle(adapter, providerJobId));
    }
    expect(outcomes).toEqual([
      { state: 'failed', code: 'provider_rejected', retryable: false },
      { state: 'failed', code: 'provider_unavailable', retryable: true },
      { state: 'failed', code: 'content_filtered', retryable: false },
    ]);
  });

  it('reads ED25519-signed webhooks with keys from the JWKS (cached), and refuses bad ones', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { providerJobId } = await adapter.createImageJob(
        job(image, { webhookUrl: `${receiver.url}/hooks/fal` }),
      );
      const hook = await receiver.waitFor(() => true);
      expect(await adapter.readWebhook(hook)).toMatchObject({
        providerJobId,
        deliveryId: `${providerJobId}/completed`,
        status: { state: 'succeeded', outputs: [{ contentType: 'image/png' }, { contentType: 'image/png' }] },
      });
      const body = hook.rawBody.toString();
      const fresh = stub.signedDelivery(providerJobId, body);
      expect((await adapter.readWebhook(fresh)).status.state).toBe('succeeded');
      expect(stub.jwksFetches()).toBe(1);

      const refused = [
        { headers: fresh.headers, rawBody: Buffer.from(body.replace('"OK"', '"ERROR"')) },
        stub.signedDelivery(providerJobId, body, new Date(Date.now() - 6 * 60_000)),
        stub.signedDelivery(providerJobId, body, new Date(Date.now() + 6 * 60_000)),
        stub.signedDelivery('another-request', body),
        { headers: { ...fresh.headers, 'x-fal-webhook-signature': 'ab'.repeat(64) }, rawBody: fresh.rawBody },
        { headers: { ...fresh.headers, 'x-fal-webhook-user-id': 'someone-else' }, rawBody: fresh.rawBody },
        { headers: {}, rawBody: fresh.rawBody },
      ];
      for (const delivery of refused)
        await expect(adapter.readWebhook(delivery)).rejects.toBeInstanceOf(InvalidWebhookSignature);
    } finally {
      await receiver.close();
    }
  });

  it('refuses webhooks signed by another key', async () => {
    const other = await startFalStub();
    try {
      const body = JSON.stringify({ request_id: 'r-1', status: 'OK', payload: { images: [] } });
      await expect(adapter.readWebhook(other.signedDelivery('r-1', body))).rejects.toBeInstanceOf(
        InvalidWebhookSignature,
      );
    } finally {
      await other.close();
    }
  });

  it('turns malformed answers and error statuses into ProviderErrors without secrets', async () => {
    const { providerJobId } = await adapter.createImageJob(job(image));
    stub.malformedNext('status');
    await expect(adapter.getStatus(providerJobId, flux)).rejects.toMatchObject({
      code: 'provider_error',
      retryable: true,
    });
    stub.failNext({ on: 'status', status: 429, retryAfter: new Date(Date.now() + 4_000).toUTCString() });
    const limited = await adapter.getStatus(providerJobId, flux).catch((error: unknown) => error);
    expect(limited).toMatchObject({ code: 'provider_unavailable', retryable: true, limit: 'rate' });
    expect((limited as ProviderError).retryAfterMs).toBeGreaterThan(2_000);
    const stranger = createFalAdapter({ key: 'fal-wrong-key', baseUrl: stub.url });
    const refused = await stranger.getStatus(providerJobId, flux).catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'internal', retryable: false });
    for (const error of [limited, refused]) {
      expect((error as Error).message).not.toContain(stub.key);
      expect((error as Error).message).not.toContain('fal-wrong-key');
      expect((error as Error).message).not.toContain(new URL(stub.url).host);
    }
  });
});
