import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { findModel, type CatalogModel } from '@kiln/contracts/catalog';
import type { GenerationRequest } from '@kiln/contracts/job/request';
import { createFalAdapter } from '#src/providers/fal/adapter.ts';
import { startFalStub, type FalStub } from '#src/providers/fal/stub.ts';
import { ProviderError } from '#src/providers/port.ts';
import { createReplicateAdapter } from '#src/providers/replicate/adapter.ts';
import { startReplicateStub, type ReplicateStub } from '#src/providers/replicate/stub.ts';
import {
  makeResilient,
  type BreakerState,
  type LimitHit,
  type ResilienceOptions,
} from '#src/providers/resilient.ts';

const model = findModel('flux-schnell') as CatalogModel;
const request: GenerationRequest = {
  kind: 'image',
  modelId: model.id,
  prompt: 'a kite',
  width: 512,
  height: 512,
  count: 1,
};
const job = { jobId: 'job-3', attempt: 1, idempotencyKey: 'job-3/attempt-1', model, request, inputs: [] };

const settings = (overrides: Partial<ResilienceOptions> = {}): ResilienceOptions => ({
  timeoutMs: 300,
  maxAttempts: 3,
  initialDelayMs: 20,
  maxDelayMs: 2_000,
  breaker: { consecutiveFailures: 3, halfOpenAfterMs: 400 },
  ...overrides,
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error,
  );

describe('the resilient wrapper over the Replicate adapter and stub', () => {
  let stub: ReplicateStub;
  beforeAll(async () => {
    stub = await startReplicateStub({ delayMs: 60 });
  });
  afterEach(() => stub.clearFaults());
  afterAll(() => stub.close());

  const wrapped = (overrides: Partial<ResilienceOptions> = {}) =>
    makeResilient(createReplicateAdapter({ token: stub.token, baseUrl: stub.url }), settings(overrides));

  it('retries a create refused with 429 no sooner than its Retry-After, and makes one prediction', async () => {
    const before = stub.created();
    const calls = stub.calls.create;
    stub.failNext({ on: 'create', status: 429, retryAfter: 1 });
    const started = performance.now();
    const { providerJobId } = await wrapped().createImageJob(job);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(stub.calls.create - calls).toBe(2);
    expect(stub.created() - before).toBe(1);
    expect(stub.predictions.has(providerJobId)).toBe(true);
  });

  it('does not send a create again after a 503 or a timeout, where a prediction may exist', async () => {
    const adapter = wrapped();
    const calls = stub.calls.create;
    stub.failNext({ on: 'create', status: 503 });
    expect(await failure(adapter.createImageJob(job))).toMatchObject({
      code: 'provider_unavailable',
      retryable: true,
      safeToRepeat: false,
    });
    const before = stub.created();
    stub.hangNext(500, 'create');
    expect(await failure(adapter.createImageJob(job))).toMatchObject({
      code: 'provider_timeout',
      retryable: true,
    });
    expect(stub.calls.create - calls).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(stub.created() - before).toBe(1); // the hung create went through: a retry would have made two
  });

  it('retries an ambiguous create when the adapter says its provider deduplicates creates', async () => {
    const plain = createReplicateAdapter({ token: stub.token, baseUrl: stub.url });
    const adapter = makeResilient({ ...plain, idempotentCreates: true }, settings());
    const calls = stub.calls.create;
    stub.failNext({ on: 'create', status: 503 });
    await adapter.createImageJob(job);
    expect(stub.calls.create - calls).toBe(2);
  });

  it('cuts a hanging status call at the timeout and retries it', async () => {
    const adapter = wrapped();
    const { providerJobId } = await adapter.createImageJob(job);
    const calls = stub.calls.status;
    stub.hangNext(3_000, 'status');
    const started = performance.now();
    const status = await adapter.getStatus(providerJobId, model);
    expect(['queued', 'running', 'succeeded']).toContain(status.state);
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(stub.calls.status - calls).toBe(2);
  });

  it('waits a random share of a doubling pause before each retry (exponential backoff, full jitter)', async () => {
    const { providerJobId } = await wrapped().createImageJob(job);
    /** The pauses before the retries of one status call that fails three times, with Math.random at `random`. */
    const pausesAt = async (random: number) => {
      const pauses: number[] = [];
      const adapter = wrapped({
        maxAttempts: 4,
        initialDelayMs: 40,
        maxDelayMs: 100,
        breaker: { consecutiveFailures: 10, halfOpenAfterMs: 400 },
        onRetry: ({ delayMs }) => void pauses.push(delayMs),
      });
      stub.failNext(Array.from({ length: 3 }, () => ({ on: 'status' as const, status: 503 })));
      const randomness = vi.spyOn(Math, 'random').mockReturnValue(random);
      try {
        await adapter.getStatus(providerJobId, model);
      } finally {
        randomness.mockRestore();
      }
      return pauses;
    };
    // random × min(maxDelayMs, initialDelayMs × 2^n): growing, capped, and drawn afresh each time.
    expect(await pausesAt(0.99)).toEqual([39, 79, 99]);
    expect(await pausesAt(0.5)).toEqual([20, 40, 50]);
  });

  it('waits out a Retry-After even when the jitter draws less, and reports the limit', async () => {
    const { providerJobId } = await wrapped().createImageJob(job);
    const pauses: number[] = [];
    const limits: LimitHit[] = [];
    const adapter = wrapped({
      onRetry: ({ delayMs }) => void pauses.push(delayMs),
      onLimitHit: (hit) => void limits.push(hit),
    });
    stub.failNext({ on: 'status', status: 429, retryAfter: 1 });
    const randomness = vi.spyOn(Math, 'random').mockReturnValue(0);
    const started = performance.now();
    try {
      await adapter.getStatus(providerJobId, model);
    } finally {
      randomness.mockRestore();
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(pauses).toEqual([1_000]);
    expect(limits).toEqual([{ provider: 'replicate', limit: 'rate', retryAfterMs: 1_000 }]);
  });

  it('leaves a Retry-After longer than maxDelayMs to the caller', async () => {
    stub.failNext({ on: 'status', status: 429, retryAfter: 30 });
    const calls = stub.calls.status;
    expect(await failure(wrapped().getStatus('any', model))).toMatchObject({
      code: 'provider_unavailable',
      retryAfterMs: 30_000,
    });
    expect(stub.calls.status - calls).toBe(1);
  });

  it('opens the breaker after N failures in a row, fails fast, half-opens after the pause and closes on success', async () => {
    const changes: BreakerState[] = [];
    const adapter = wrapped({ onBreakerChange: (state) => void changes.push(state) });
    const { providerJobId } = await adapter.createImageJob(job);
    stub.failAlways({ on: 'status', status: 503 });
    const calls = stub.calls.status;

    expect(await failure(adapter.getStatus(providerJobId, model))).toMatchObject({
      code: 'provider_unavailable',
    });
    expect(stub.calls.status - calls).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(changes).toEqual(['opened']);

    const fast = performance.now();
    const refused = await failure(adapter.getStatus(providerJobId, model));
    expect(performance.now() - fast).toBeLessThan(50);
    expect(refused).toBeInstanceOf(ProviderError);
    expect(refused).toMatchObject({ code: 'provider_unavailable', retryable: true });
    expect((refused as ProviderError).retryAfterMs).toBeGreaterThan(0);
    expect(stub.calls.status - calls).toBe(3); // the stub was not called
    const cancels = stub.calls.cancel;
    expect(await failure(adapter.cancel(providerJobId, model))).toMatchObject({
      code: 'provider_unavailable',
    });
    expect(stub.calls.cancel).toBe(cancels); // one breaker for every call to the provider

    stub.failAlways(undefined);
    await new Promise((resolve) => setTimeout(resolve, 450));
    await adapter.getStatus(providerJobId, model);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(changes).toEqual(['opened', 'half-open', 'closed']);
    expect(stub.calls.status - calls).toBe(4);
  });

  it('does not count rejected requests against the provider', async () => {
    const changes: BreakerState[] = [];
    const adapter = wrapped({
      onBreakerChange: (state) => void changes.push(state),
      breaker: { consecutiveFailures: 2, halfOpenAfterMs: 400 },
    });
    for (let i = 0; i < 3; i += 1) {
      expect(await failure(adapter.getStatus('unknown-prediction', model))).toMatchObject({
        code: 'provider_rejected',
      });
    }
    expect(changes).toEqual([]);
  });
});

describe('the resilient wrapper over the fal adapter and stub', () => {
  let stub: FalStub;
  beforeAll(async () => {
    stub = await startFalStub({ delayMs: 60 });
  });
  afterAll(() => stub.close());

  it('retries a 503 status answer with backoff and succeeds', async () => {
    const flux = findModel('flux-dev') as CatalogModel;
    const adapter = makeResilient(createFalAdapter({ key: stub.key, baseUrl: stub.url }), settings());
    const { providerJobId } = await adapter.createImageJob({
      ...job,
      model: flux,
      request: { ...request, modelId: flux.id },
    });
    stub.failNext([
      { on: 'status', status: 503 },
      { on: 'status', status: 502 },
    ]);
    const calls = stub.calls.status;
    expect((await adapter.getStatus(providerJobId, flux)).state).toMatch(/queued|running|succeeded/);
    expect(stub.calls.status - calls).toBe(3);
  });
});
