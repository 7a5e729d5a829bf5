import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import { fingerprintOf } from '#src/http/mount.ts';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';

const imageRequest = (prompt = 'a kiln at dusk') => ({
  request: { kind: 'image', modelId: 'kiln-local-image', prompt, width: 512, height: 512, count: 1 },
});
// 512×512 is one started megapixel: 1 image × (1 + 1) = 2 credits.
const IMAGE_COST = 2;

let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService({ MAX_ACTIVE_JOBS: '5' });
});
afterAll(async () => kiln.stop());

const requestJob = (cookie: string, key: string, body: unknown = imageRequest()) =>
  kiln.call('POST', '/v1/jobs', { cookie, headers: { 'idempotency-key': key }, body });

const billingEvents = async (accountId: string) =>
  (await kiln.store.readStream(billingStreamId(accountId))).map((e) => e.type);

describe('POST /v1/jobs', () => {
  it('answers 402 with the shortfall when the account has too few credits', async () => {
    const { cookie } = await kiln.signUp();
    const answer = await requestJob(cookie, randomUUID());
    expect(answer.status).toBe(402);
    expect(answer.body.error).toMatchObject({
      code: 'insufficient_credits',
      details: { required: IMAGE_COST, available: 0, shortfall: IMAGE_COST },
      retryable: false,
    });
    expect(answer.body.error.correlationId).toEqual(expect.any(String));
  });

  it('reserves the price from the catalog and records the request', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const answer = await requestJob(cookie, randomUUID());
    expect(answer.status).toBe(202);
    expect(answer.body.data).toMatchObject({ status: 'requested', cost: IMAGE_COST });
    const job = await kiln.store.readStream(jobStreamId(answer.body.data.jobId));
    expect(job.map((e) => e.type)).toEqual(['JobRequested']);
    expect(job[0]?.position).toBe(answer.body.data.position);
    expect(job[0]?.metadata.correlationId).toBe(answer.headers.get('x-correlation-id'));
    expect(await billingEvents(user.accountId)).toEqual([
      'BillingAccountOpened',
      'CreditsGranted',
      'CreditsReserved',
    ]);
  });

  it('records a video request at its price per second from the catalog', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const video = {
      kind: 'video',
      modelId: 'kiln-local-animation',
      prompt: 'embers drifting up from a kiln',
      width: 512,
      height: 512,
      durationSeconds: 4,
      fps: 12,
    };
    const answer = await requestJob(cookie, randomUUID(), { request: video });
    expect(answer.status, JSON.stringify(answer.body)).toBe(202);
    // 4 seconds × 2 credits a second.
    expect(answer.body.data).toMatchObject({ status: 'requested', cost: 8 });
    const [requested] = await kiln.store.readStream(jobStreamId(answer.body.data.jobId));
    expect(requested).toMatchObject({ type: 'JobRequested', data: { request: video, cost: 8 } });
    const billing = await kiln.store.readStream(billingStreamId(user.accountId));
    expect(billing.at(-1)).toMatchObject({ type: 'CreditsReserved', data: { amount: 8 } });
  });

  it('carries the x-correlation-id of the request into the events', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const answer = await kiln.call('POST', '/v1/jobs', {
      cookie,
      headers: { 'idempotency-key': randomUUID(), 'x-correlation-id': 'trace-abc-123' },
      body: imageRequest(),
    });
    expect(answer.headers.get('x-correlation-id')).toBe('trace-abc-123');
    const [requested] = await kiln.store.readStream(jobStreamId(answer.body.data.jobId));
    expect(requested?.metadata).toMatchObject({
      correlationId: 'trace-abc-123',
      actor: { kind: 'user', id: user.id },
    });
    expect(kiln.logLines.some((line) => line.includes('trace-abc-123'))).toBe(true);
  });

  it('answers a retry with the same key with the first answer and appends nothing', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const key = randomUUID();
    const first = await requestJob(cookie, key);
    const before = (await kiln.store.readAll({ maxCount: 100_000 })).length;
    const retry = await requestJob(cookie, key);
    expect(retry.status).toBe(first.status);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((await kiln.store.readAll({ maxCount: 100_000 })).length).toBe(before);
  });

  it('answers a retry whose first answer was lost with the job it recorded, even after it settled', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const key = randomUUID();
    const first = await requestJob(cookie, key);
    const { jobId } = first.body.data;
    // The instance died after recording the job and before keeping its answer; the job ran and settled.
    await kiln.service.idempotency.release(user.id, key);
    await kiln.store.appendToStream(billingStreamId(user.accountId), [
      {
        id: randomUUID(),
        type: 'CreditsReleased',
        data: { accountId: user.accountId, jobId, amount: IMAGE_COST, reason: 'job failed' },
        metadata: {
          correlationId: 'lost-answer',
          causationId: null,
          actor: { kind: 'system', id: 'job-tracker' },
          at: new Date().toISOString(),
        },
      },
    ]);
    const before = (await kiln.store.readAll({ maxCount: 100_000 })).length;
    const retry = await requestJob(cookie, key);
    expect(retry.status).toBe(202);
    expect(retry.body.data).toEqual(first.body.data);
    expect((await kiln.store.readAll({ maxCount: 100_000 })).length).toBe(before);
  });

  it('answers a retry on another instance whose first answer was lost, while the job is still open', async () => {
    const replica = await startCommandService(
      {},
      { replicaOf: { schemas: kiln.schemas, rateLimitPrefix: kiln.rateLimitPrefix } },
    );
    try {
      const { cookie, user } = await kiln.signUp();
      await kiln.grant(user.accountId, 10);
      const key = randomUUID();
      const first = await requestJob(cookie, key);
      expect(first.status).toBe(202);
      await kiln.service.idempotency.release(user.id, key);
      const before = (await kiln.store.readAll({ maxCount: 100_000 })).length;
      const retry = await replica.call('POST', '/v1/jobs', {
        cookie,
        headers: { 'idempotency-key': key },
        body: imageRequest(),
      });
      expect(retry.status).toBe(202);
      expect(retry.body.data).toEqual(first.body.data);
      expect((await kiln.store.readAll({ maxCount: 100_000 })).length).toBe(before);
    } finally {
      await replica.stop();
    }
  });

  it('refuses the same key with another body (422), and while the first is still running (409)', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const key = randomUUID();
    expect((await requestJob(cookie, key)).status).toBe(202);
    const other = await requestJob(cookie, key, imageRequest('another prompt'));
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');

    const runningKey = randomUUID();
    const body = imageRequest();
    // Another instance holds the key: it claimed it and has not answered yet.
    const claim = await kiln.service.idempotency.claim(
      user.id,
      runningKey,
      fingerprintOf('post', '/v1/jobs', { body, params: undefined, query: undefined }),
    );
    expect(claim.kind).toBe('claimed');
    const whileRunning = await requestJob(cookie, runningKey, body);
    expect(whileRunning.status).toBe(409);
    expect(whileRunning.headers.get('retry-after')).toBe('1');
  });

  it('needs an Idempotency-Key', async () => {
    const { cookie } = await kiln.signUp();
    const answer = await kiln.call('POST', '/v1/jobs', { cookie, body: imageRequest() });
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('validation_failed');
  });

  it('refuses a sixth active job with 429 and Retry-After', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 100);
    for (let job = 0; job < 5; job += 1) expect((await requestJob(cookie, randomUUID())).status).toBe(202);
    const sixth = await requestJob(cookie, randomUUID());
    expect(sixth.status).toBe(429);
    expect(sixth.body.error.code).toBe('too_many_active_jobs');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('never spends more than the balance under concurrent requests', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 9);
    const answers = await Promise.all(Array.from({ length: 8 }, () => requestJob(cookie, randomUUID())));
    const statuses = answers.map((answer) => answer.status).sort();
    // 9 credits buy four 2-credit jobs; the rest are refused, whatever the interleaving.
    expect(statuses.filter((status) => status === 202)).toHaveLength(4);
    expect(statuses.filter((status) => status !== 202).every((status) => status === 402)).toBe(true);
    expect((await billingEvents(user.accountId)).filter((type) => type === 'CreditsReserved')).toHaveLength(
      4,
    );
  });

  it('checks the request against the catalog', async () => {
    const { cookie } = await kiln.signUp();
    const unknownModel = await requestJob(cookie, randomUUID(), {
      request: { ...imageRequest().request, modelId: 'nope' },
    });
    expect(unknownModel.status).toBe(400);
    expect(unknownModel.body.error.message).toContain('nope');
    const tooWide = await requestJob(cookie, randomUUID(), {
      request: { ...imageRequest().request, width: 4000 },
    });
    expect(tooWide.status).toBe(400);
    expect(tooWide.body.error.details.problems).toContain('width is at most 2048');
    const withPrice = await requestJob(cookie, randomUUID(), { ...imageRequest(), cost: 0 });
    expect(withPrice.status).toBe(400);
  });

  it('asks for sign-in', async () => {
    const answer = await requestJob('', randomUUID());
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthenticated');
  });
});

describe('POST /v1/jobs/:jobId/cancel', () => {
  it('cancels a job not yet at a provider at once; someone else gets 404', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const { body } = await requestJob(cookie, randomUUID());
    const stranger = await kiln.signUp();
    const refused = await kiln.call('POST', `/v1/jobs/${body.data.jobId}/cancel`, {
      cookie: stranger.cookie,
      body: {},
    });
    expect(refused.status).toBe(404);
    const canceled = await kiln.call('POST', `/v1/jobs/${body.data.jobId}/cancel`, {
      cookie,
      body: { reason: 'changed my mind' },
    });
    expect(canceled.status).toBe(202);
    expect(canceled.body.data.status).toBe('canceled');
    expect((await kiln.store.readStream(jobStreamId(body.data.jobId))).map((e) => e.type)).toEqual([
      'JobRequested',
      'JobCancelRequested',
      'JobCanceled',
    ]);
  });
});
