import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModel, type CatalogModel } from '@kiln/contracts/catalog';
import type { GenerationRequest } from '@kiln/contracts/job/request';
import { createLocalAdapter } from '#src/providers/local/adapter.ts';
import { startLocalProvider, type LocalProvider } from '#src/providers/local/server.ts';
import { InvalidWebhookSignature, type ProviderAdapter, type ProviderStatus } from '#src/providers/port.ts';
import { startWebhookReceiver } from '#src/providers/stubs/webhookReceiver.ts';

const imageModel = findModel('kiln-local-image') as CatalogModel;
const videoModel = findModel('kiln-local-animation') as CatalogModel;
const image: GenerationRequest = {
  kind: 'image',
  modelId: imageModel.id,
  prompt: 'a red fox',
  width: 200,
  height: 120,
  count: 2,
  seed: 5,
};
const video: GenerationRequest = {
  kind: 'video',
  modelId: videoModel.id,
  prompt: 'embers',
  width: 80,
  height: 60,
  durationSeconds: 1,
  fps: 8,
};

let jobCount = 0;
const jobOf = (request: GenerationRequest, extra: { webhookUrl?: string } = {}) => {
  jobCount += 1;
  const jobId = `job-${jobCount}`;
  const model = request.kind === 'image' ? imageModel : videoModel;
  return { jobId, attempt: 1, idempotencyKey: `${jobId}/attempt-1`, model, request, inputs: [], ...extra };
};

const waitForStatus = async (
  adapter: ProviderAdapter,
  id: string,
  done: (status: ProviderStatus) => boolean,
  seen: ProviderStatus[] = [],
): Promise<ProviderStatus> => {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = await adapter.getStatus(id, imageModel);
    seen.push(status);
    if (done(status)) return status;
    if (Date.now() > deadline) throw new Error(`still ${status.state}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
};

describe('the local provider', () => {
  let dir: string;
  let provider: LocalProvider;
  let adapter: ProviderAdapter;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kiln-local-provider-'));
    provider = await startLocalProvider({
      outputDir: join(dir, 'out'),
      delayMs: 200,
      concurrency: 1,
      token: 'local-token',
    });
    adapter = createLocalAdapter({
      baseUrl: provider.url,
      webhookSecret: provider.webhookSecret,
      token: 'local-token',
    });
  });
  afterAll(async () => {
    await provider.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('queues, runs through progress steps, succeeds, and serves the outputs with their content type', async () => {
    const { providerJobId } = await adapter.createImageJob(jobOf(image));
    const seen: ProviderStatus[] = [];
    const done = await waitForStatus(adapter, providerJobId, (status) => status.state === 'succeeded', seen);
    const progress = seen.flatMap((status) =>
      status.state === 'running' && status.progress ? [status.progress] : [],
    );
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort());
    if (done.state !== 'succeeded') throw new Error('unreachable');
    expect(done.outputs).toHaveLength(2);
    expect(await adapter.getResult(providerJobId, imageModel)).toEqual(done.outputs);
    for (const output of done.outputs) {
      const response = await fetch(output.url);
      expect(response.headers.get('content-type')).toBe('image/png');
      const metadata = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
      expect([metadata.width, metadata.height]).toEqual([200, 120]);
    }
  });

  it('gives the same job for the same Idempotency-Key, and refuses the key with another body', async () => {
    const job = jobOf(image);
    const first = await adapter.createImageJob(job);
    const again = await adapter.createImageJob(job);
    expect(again.providerJobId).toBe(first.providerJobId);
    const reused = await fetch(`${provider.url}/jobs`, {
      method: 'POST',
      headers: {
        authorization: 'Bearer local-token',
        'content-type': 'application/json',
        'idempotency-key': job.idempotencyKey,
      },
      body: JSON.stringify({
        model: 'local/image',
        input: { prompt: 'something else', width: 64, height: 64 },
      }),
    });
    expect(reused.status).toBe(409);
    await adapter.cancel(first.providerJobId, imageModel);
  });

  it('reports a queue position behind a running job, and cancels queued and running jobs', async () => {
    const running = await adapter.createImageJob(jobOf(image));
    const waiting = await adapter.createImageJob(jobOf(image));
    const queued = await adapter.getStatus(waiting.providerJobId, imageModel);
    expect(queued).toMatchObject({ state: 'queued', queuePosition: 0 });
    expect(await adapter.cancel(waiting.providerJobId, imageModel)).toBe('canceled');
    expect(await adapter.cancel(running.providerJobId, imageModel)).toBe('canceled');
    expect(await adapter.getStatus(running.providerJobId, imageModel)).toEqual({ state: 'canceled' });
  });

  it('says a finished job is finished when asked to cancel it', async () => {
    const { providerJobId } = await adapter.createImageJob(jobOf(image));
    await waitForStatus(adapter, providerJobId, (status) => status.state === 'succeeded');
    expect(await adapter.cancel(providerJobId, imageModel)).toBe('finished');
  });

  it('renders animations as animated WebP', async () => {
    const { providerJobId } = await adapter.createVideoJob(jobOf(video));
    const done = await waitForStatus(adapter, providerJobId, (status) => status.state === 'succeeded');
    if (done.state !== 'succeeded') throw new Error('unreachable');
    const response = await fetch(done.outputs[0]!.url);
    expect(response.headers.get('content-type')).toBe('image/webp');
    const metadata = await sharp(Buffer.from(await response.arrayBuffer()), { animated: true }).metadata();
    expect(metadata.pages).toBe(8);
  });

  it('posts every status change to the webhook, signed, in order', async () => {
    const receiver = await startWebhookReceiver();
    try {
      const { providerJobId } = await adapter.createImageJob(
        jobOf(image, { webhookUrl: `${receiver.url}/hooks/local` }),
      );
      const last = await receiver.waitFor((hook) => hook.rawBody.toString().includes('"succeeded"'));
      const read = await Promise.all(receiver.received.map((hook) => adapter.readWebhook(hook)));
      expect(read.every((hook) => hook.providerJobId === providerJobId)).toBe(true);
      expect(read.map((hook) => hook.status.state)).toEqual([
        'queued',
        'running',
        'running',
        'running',
        'running',
        'succeeded',
      ]);
      expect(new Set(read.map((hook) => hook.deliveryId)).size).toBe(read.length);
      const tampered = {
        ...last,
        rawBody: Buffer.from(last.rawBody.toString().replace('succeeded', 'failed')),
      };
      await expect(adapter.readWebhook(tampered)).rejects.toBeInstanceOf(InvalidWebhookSignature);
    } finally {
      await receiver.close();
    }
  });

  it('refuses calls without its token', async () => {
    const stranger = createLocalAdapter({ baseUrl: provider.url });
    await expect(stranger.createImageJob(jobOf(image))).rejects.toMatchObject({
      code: 'internal',
      retryable: false,
    });
  });
});

describe('the local provider failing', () => {
  it('fails every job at failureRate 1 with a plausible error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kiln-local-failing-'));
    const provider = await startLocalProvider({
      outputDir: dir,
      delayMs: 40,
      failureRate: 1,
      random: () => 0,
    });
    try {
      const adapter = createLocalAdapter({ baseUrl: provider.url });
      const { providerJobId } = await adapter.createImageJob(jobOf(image));
      const failed = await waitForStatus(adapter, providerJobId, (status) => status.state === 'failed');
      expect(failed).toEqual({ state: 'failed', code: 'provider_error', retryable: true });
    } finally {
      await provider.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
