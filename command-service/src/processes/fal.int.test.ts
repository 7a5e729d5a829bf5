import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStreamId } from '@kiln/contracts/streams';
import { startFalStub, type FalStub } from '#src/providers/fal/stub.ts';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';
import { has, typesOf, waitForStream } from '#src/testing/waitFor.ts';

const TIMEOUT_MS = 1_000;

let stub: FalStub;
let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  stub = await startFalStub({ delayMs: 400 });
  kiln = await startCommandService({
    PROCESS_MANAGERS: 'true',
    FAL_KEY: stub.key,
    FAL_QUEUE_URL: stub.url,
    FAL_JWKS_URL: stub.jwksUrl,
    // No polling while a test runs: what happens to a job, fal's webhook did.
    POLL_EVERY_MS: '3600000',
    PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
    PROVIDER_MAX_ATTEMPTS: '3',
  });
});
afterAll(async () => {
  await kiln.stop();
  await stub.close();
});

const requestFluxDev = async () => {
  const { cookie, user } = await kiln.signUp();
  await kiln.grant(user.accountId, 100);
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'flux-dev',
        prompt: 'a salt marsh',
        width: 768,
        height: 512,
        count: 2,
      },
    },
  });
  expect(answer.status).toBe(202);
  return (answer.body.data as { jobId: string }).jobId;
};

/** The statuses Kiln answered fal's webhooks with, from its request log lines. */
const webhookStatuses = (): number[] =>
  kiln.logLines
    .filter((line) => line.includes('/v1/webhooks/providers/fal'))
    .map((line) => (JSON.parse(line) as { status: number }).status);

describe('the provider runner against the fal stub', () => {
  it('takes a job through fal’s queue to succeeded by its ED25519-signed webhook', async () => {
    const jobId = await requestFluxDev();
    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    const submitted = job.find((event) => event.type === 'JobProviderSubmitted');
    if (submitted?.type !== 'JobProviderSubmitted') throw new Error('no JobProviderSubmitted');
    expect(submitted.data).toMatchObject({ provider: 'fal', attempt: 1 });
    const request = stub.requests.get(submitted.data.providerJobId);
    expect(request?.app).toBe('fal-ai/flux/dev');
    expect(request?.input).toMatchObject({
      prompt: 'a salt marsh',
      image_size: { width: 768, height: 512 },
      num_images: 2,
    });
    expect(request?.webhook).toBe(`${kiln.url}/v1/webhooks/providers/fal`);

    const succeeded = job.find((event) => event.type === 'JobSucceeded');
    if (succeeded?.type !== 'JobSucceeded') throw new Error('no JobSucceeded');
    expect(succeeded.data.provider).toBe('fal');
    expect(succeeded.data.outputs).toHaveLength(2);
    for (const output of succeeded.data.outputs) {
      const file = await fetch(output.url);
      expect(file.headers.get('content-type')).toBe('image/png');
    }
    // The webhook carried the result: Kiln never asked for the status or the result.
    expect(stub.calls.status).toBe(0);
    expect(stub.calls.result).toBe(0);
  });

  it('refuses a fal webhook whose body was changed after signing, with 401', async () => {
    const jobId = await requestFluxDev();
    const events = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    const submitted = events.find((event) => event.type === 'JobProviderSubmitted');
    if (submitted?.type !== 'JobProviderSubmitted') throw new Error('no JobProviderSubmitted');
    const requestId = submitted.data.providerJobId;
    const body = JSON.stringify({ request_id: requestId, status: 'ERROR', error: 'forged', payload: {} });
    const { headers } = stub.signedDelivery(requestId, body);
    const tampered = await kiln.call('POST', '/v1/webhooks/providers/fal', {
      headers: { ...headers, 'content-type': 'application/json' },
      raw: body.replace('ERROR', 'OK'),
    });
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe('unauthenticated');
    expect(await kiln.store.readStream(jobStreamId(jobId))).toEqual(events);
  });

  it('fails a job whose submit hangs past the timeout, sends it once, and ignores the late request', async () => {
    const creates = stub.calls.create;
    const queued = stub.created();
    stub.hangNext(TIMEOUT_MS * 3, 'create');
    const began = Date.now();
    const jobId = await requestFluxDev();
    const failed = await waitForStream(kiln.store, jobStreamId(jobId), has('JobFailed'));
    expect(Date.now() - began).toBeLessThan(TIMEOUT_MS * 3);
    expect(failed.find((event) => event.type === 'JobFailed')?.data).toMatchObject({
      code: 'provider_timeout',
      retryable: true,
    });
    // fal has no idempotency key: a submit that may have arrived is not sent again.
    expect(stub.calls.create - creates).toBe(1);

    // The hung submit went through after all; its request runs, and its webhook reaches Kiln.
    const lateWebhooks = webhookStatuses().length;
    for (;;) {
      const late = [...stub.requests.values()].slice(queued);
      if (late.length === 1 && late[0]?.state === 'COMPLETED') break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await stub.deliveriesIdle();
    expect(webhookStatuses().slice(lateWebhooks)).toEqual([200]);
    const after = await kiln.store.readStream(jobStreamId(jobId));
    expect(typesOf(after)).toEqual(typesOf(failed));
    expect(typesOf(after)).not.toContain('JobSucceeded');
  });
});
