import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicEventId } from '@kiln/contracts/event-ids';
import { jobStreamId } from '@kiln/contracts/streams';
import { startReplicateStub, type ReplicateStub } from '#src/providers/replicate/stub.ts';
import { standardWebhookHeaders } from '#src/providers/webhookDelivery.ts';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';
import { has, typesOf, waitForStream } from '#src/testing/waitFor.ts';

/** Long enough that no poll happens while a test runs: whatever a job does, webhooks did it. */
const NO_POLLING = '3600000';

const replicateSettings = (stub: ReplicateStub) => ({
  PROCESS_MANAGERS: 'true',
  REPLICATE_API_TOKEN: stub.token,
  REPLICATE_BASE_URL: stub.url,
  REPLICATE_WEBHOOK_SECRET: stub.webhookSecret,
});

const requestFlux = async (kiln: CommandServiceUnderTest) => {
  const { cookie, user } = await kiln.signUp();
  await kiln.grant(user.accountId, 100);
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'flux-schnell',
        prompt: 'tide pools',
        width: 512,
        height: 512,
        count: 1,
      },
    },
  });
  expect(answer.status).toBe(202);
  return (answer.body.data as { jobId: string }).jobId;
};

const providerJobIdOf = async (kiln: CommandServiceUnderTest, jobId: string) => {
  const events = await waitForStream(kiln.store, jobStreamId(jobId), has('JobProviderSubmitted'));
  const submitted = events.find((event) => event.type === 'JobProviderSubmitted');
  if (submitted?.type !== 'JobProviderSubmitted') throw new Error('no JobProviderSubmitted');
  return submitted.data.providerJobId;
};

describe('webhooks alone (no polling)', () => {
  let stub: ReplicateStub;
  let kiln: CommandServiceUnderTest;
  beforeAll(async () => {
    stub = await startReplicateStub({ delayMs: 400 });
    kiln = await startCommandService({ ...replicateSettings(stub), POLL_EVERY_MS: NO_POLLING });
  });
  afterAll(async () => {
    await kiln.stop();
    await stub.close();
  });

  /** A webhook about a prediction, as Replicate sends it; signed with `secret` (the stub's unless forged). */
  const delivery = (prediction: Record<string, unknown>, secret = stub.webhookSecret) => {
    const body = JSON.stringify(prediction);
    const headers = standardWebhookHeaders(secret, `msg_${randomBytes(12).toString('hex')}`, body);
    return { headers: { ...headers, 'content-type': 'application/json' }, raw: body };
  };
  const post = (sent: { headers: Record<string, string>; raw: string }) =>
    kiln.call('POST', '/v1/webhooks/providers/replicate', sent);

  it('takes a job from submitted to succeeded on signed webhooks alone', async () => {
    const jobId = await requestFlux(kiln);
    const providerJobId = await providerJobIdOf(kiln, jobId);
    expect(stub.predictions.get(providerJobId)?.webhook).toBe(`${kiln.url}/v1/webhooks/providers/replicate`);
    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    expect(typesOf(job)).toContain('JobProgressed');
    expect(job.find((event) => event.type === 'JobSucceeded')?.data).toMatchObject({
      provider: 'replicate',
      outputs: [{ index: 0, url: stub.predictions.get(providerJobId)?.output?.[0] }],
    });
    // The success came from a delivery, not a poll: its event id is the one that delivery's key makes.
    // (The worker may look at a job once when a webhook moves its row mid-step; it does not need to.)
    const fromDeliveries = stub
      .webhooksSent()
      .map((sent) =>
        deterministicEventId(
          `system:process-manager/webhook/replicate/${sent.headers['webhook-id']}/0/${jobStreamId(jobId)}/0`,
        ),
      );
    expect(fromDeliveries).toContain(job.find((event) => event.type === 'JobSucceeded')?.id);
    expect(stub.calls.status).toBeLessThanOrEqual(1);
  });

  it('appends nothing when the same delivery comes a second time', async () => {
    stub.tuneNext({ delayMs: 600_000 }); // stays at the provider for the whole test
    const jobId = await requestFlux(kiln);
    const providerJobId = await providerJobIdOf(kiln, jobId);
    await stub.deliveriesIdle();
    const once = delivery({ id: providerJobId, status: 'processing', logs: 'warming up 1/4\n' });

    const before = (await kiln.store.readStream(jobStreamId(jobId))).length;
    const first = await post(once);
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual({ applied: true });
    const afterFirst = await kiln.store.readStream(jobStreamId(jobId));
    expect(afterFirst).toHaveLength(before + 1);
    expect(afterFirst.at(-1)).toMatchObject({ type: 'JobProgressed', data: { log: 'warming up 1/4' } });

    // Replicate retries a delivery it thinks was lost: same id, same signature, same body.
    const again = await post(once);
    expect(again.status).toBe(200);
    expect(await kiln.store.readStream(jobStreamId(jobId))).toHaveLength(before + 1);
  });

  it('refuses a delivery with a bad signature with 401, and the running job stays as it was', async () => {
    stub.tuneNext({ delayMs: 600_000 });
    const jobId = await requestFlux(kiln);
    const providerJobId = await providerJobIdOf(kiln, jobId);
    await stub.deliveriesIdle();
    const finished = {
      id: providerJobId,
      status: 'succeeded',
      output: [`${new URL(stub.url).origin}/files/${providerJobId}/0.png`],
    };
    const before = await kiln.store.readStream(jobStreamId(jobId));

    const forged = await post(delivery(finished, `whsec_${randomBytes(32).toString('base64')}`));
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe('unauthenticated');
    const unsigned = await post({
      headers: { 'content-type': 'application/json' },
      raw: JSON.stringify(finished),
    });
    expect(unsigned.status).toBe(401);
    expect(await kiln.store.readStream(jobStreamId(jobId))).toEqual(before);

    // The same report, signed with the right secret, is what would have finished the job.
    expect((await post(delivery(finished))).body.data).toEqual({ applied: true });
    await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
  });
});

describe('polling alone (no PUBLIC_URL, so no webhooks)', () => {
  let stub: ReplicateStub;
  let kiln: CommandServiceUnderTest;
  beforeAll(async () => {
    // Processing lasts a second: several polls see it, however busy the machine.
    stub = await startReplicateStub({ delayMs: 1_500 });
    kiln = await startCommandService({
      ...replicateSettings(stub),
      POLL_EVERY_MS: '200',
      // The harness gives every service its own address; this one has none a provider could call.
      PUBLIC_URL: undefined as unknown as string,
    });
  });
  afterAll(async () => {
    await kiln.stop();
    await stub.close();
  });

  it('follows a job to succeeded by polling, asking the provider for no webhook', async () => {
    const jobId = await requestFlux(kiln);
    const providerJobId = await providerJobIdOf(kiln, jobId);
    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    expect(typesOf(job)).toContain('JobProgressed');
    expect(stub.predictions.get(providerJobId)?.webhook).toBeUndefined();
    expect(stub.webhooksSent()).toEqual([]);
    expect(stub.calls.status).toBeGreaterThan(0);
    expect(kiln.logLines.some((line) => line.includes('/v1/webhooks/providers'))).toBe(false);
  });
});
