import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamId, providerStreamId } from '@kiln/contracts/streams';
import { startReplicateStub, type ReplicateStub } from '#src/providers/replicate/stub.ts';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';
import { has, typesOf, waitForStream } from '#src/testing/waitFor.ts';

const HALF_OPEN_AFTER_MS = 5_000;

let stub: ReplicateStub;
let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  stub = await startReplicateStub({ delayMs: 200 });
  kiln = await startCommandService({
    PROCESS_MANAGERS: 'true',
    POLL_EVERY_MS: '200',
    REPLICATE_API_TOKEN: stub.token,
    REPLICATE_BASE_URL: stub.url,
    REPLICATE_WEBHOOK_SECRET: stub.webhookSecret,
    PROVIDER_TIMEOUT_MS: '1000',
    PROVIDER_MAX_ATTEMPTS: '3',
    PROVIDER_BREAKER_FAILURES: '3',
    PROVIDER_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_AFTER_MS),
  });
});
afterAll(async () => {
  await kiln.stop();
  await stub.close();
});

const fluxJob = async () => {
  const { cookie, user } = await kiln.signUp();
  await kiln.grant(user.accountId, 100);
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'flux-schnell',
        prompt: 'a kiln by the sea',
        width: 512,
        height: 512,
        count: 1,
      },
    },
  });
  expect(answer.status).toBe(202);
  return (answer.body.data as { jobId: string }).jobId;
};

const limitHits = async () =>
  (await kiln.store.readStream(providerStreamId('replicate'))).filter(
    (event) => event.type === 'ProviderLimitHit',
  );

describe('the provider runner against the Replicate stub', () => {
  it('completes a job after 429s, waiting out Retry-After, and records the limit hit once', async () => {
    stub.clearFaults();
    stub.failNext([
      { on: 'create', status: 429, retryAfter: 1 },
      { on: 'create', status: 429, retryAfter: 1 },
    ]);
    const began = Date.now();
    const jobId = await fluxJob();
    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    expect(Date.now() - began).toBeGreaterThanOrEqual(2_000);
    expect(typesOf(job).filter((type) => type === 'JobProviderSubmitted')).toHaveLength(1);
    // Both refusals were the same limit, within its Retry-After and the quiet time after it.
    const hits = await limitHits();
    expect(hits.map((event) => event.data)).toEqual([
      { provider: 'replicate', limit: 'rate', retryAfterMs: 1_000 },
    ]);
  });

  it('asks again after a Retry-After too long to wait in the call, instead of failing the job', async () => {
    stub.clearFaults();
    const creates = stub.calls.create;
    stub.failNext({ on: 'create', status: 429, retryAfter: 11 });
    const jobId = await fluxJob();
    const waiting = await waitForStream(kiln.store, jobStreamId(jobId), has('JobProviderAttemptFailed'));
    const refused = waiting.find((event) => event.type === 'JobProviderAttemptFailed');
    if (refused?.type !== 'JobProviderAttemptFailed') throw new Error('no JobProviderAttemptFailed');
    expect(refused.data).toMatchObject({ attempt: 1, code: 'provider_unavailable', retryable: true });
    const retryAt = Date.parse(refused.data.retryAt ?? '');
    expect(retryAt - Date.parse(refused.recordedAt)).toBeGreaterThanOrEqual(10_000);

    const done = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'), 40_000);
    expect(typesOf(done)).not.toContain('JobFailed');
    const submitted = done.find((event) => event.type === 'JobProviderSubmitted');
    if (submitted?.type !== 'JobProviderSubmitted') throw new Error('no JobProviderSubmitted');
    expect(submitted.data.attempt).toBe(2);
    expect(Date.parse(submitted.recordedAt)).toBeGreaterThanOrEqual(retryAt);
    expect(stub.calls.create - creates).toBe(2);
  });

  it('fails a job on an exhausted quota (402), not retryable, and records the quota hit', async () => {
    stub.clearFaults();
    stub.failNext({ on: 'create', status: 402 });
    const jobId = await fluxJob();
    const failed = await waitForStream(kiln.store, jobStreamId(jobId), has('JobFailed'));
    expect(failed.find((event) => event.type === 'JobFailed')?.data).toMatchObject({
      code: 'provider_unavailable',
      retryable: false,
    });
    const hits = await limitHits();
    expect(hits.map((event) => event.data)).toContainEqual({ provider: 'replicate', limit: 'quota' });
  });

  it('opens the breaker when the provider is down, fails jobs fast with a retryable code, then half-opens and closes (events appended)', async () => {
    stub.clearFaults();
    stub.failAlways({ status: 503 });
    // A create is not repeated (Replicate could make a second prediction): each job costs the provider
    // one failed call, and the breaker opens after three in a row.
    for (let job = 0; job < 3; job += 1) {
      const failed = await waitForStream(kiln.store, jobStreamId(await fluxJob()), has('JobFailed'));
      expect(failed.find((event) => event.type === 'JobFailed')?.data).toMatchObject({ retryable: true });
    }
    const health = await waitForStream(
      kiln.store,
      providerStreamId('replicate'),
      has('ProviderBreakerOpened'),
    );
    const opened = health.find((event) => event.type === 'ProviderBreakerOpened');
    if (opened?.type !== 'ProviderBreakerOpened') throw new Error('no ProviderBreakerOpened');
    expect(opened.data).toEqual({
      provider: 'replicate',
      consecutiveFailures: 3,
      halfOpenAfterMs: HALF_OPEN_AFTER_MS,
    });

    const callsBefore = stub.calls.create;
    const began = Date.now();
    const second = await fluxJob();
    const fastFailed = await waitForStream(kiln.store, jobStreamId(second), has('JobFailed'));
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(fastFailed.find((event) => event.type === 'JobFailed')?.data).toMatchObject({
      code: 'provider_unavailable',
      retryable: true,
    });
    // The open breaker answered without calling the provider.
    expect(stub.calls.create).toBe(callsBefore);

    // The provider is back. Once the pause is over, the next job is the probe: it goes through and closes.
    stub.clearFaults();
    while (Date.now() < Date.parse(opened.recordedAt) + HALF_OPEN_AFTER_MS)
      await new Promise((resolve) => setTimeout(resolve, 100));
    await waitForStream(kiln.store, jobStreamId(await fluxJob()), has('JobSucceeded'));
    const healed = await waitForStream(
      kiln.store,
      providerStreamId('replicate'),
      has('ProviderBreakerClosed'),
    );
    expect(typesOf(healed).filter((type) => type.startsWith('ProviderBreaker'))).toEqual([
      'ProviderBreakerOpened',
      'ProviderBreakerHalfOpened',
      'ProviderBreakerClosed',
    ]);
    expect(healed.find((event) => event.type === 'ProviderBreakerClosed')?.data).toEqual({
      provider: 'replicate',
    });
  });
});
