import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { RecordedEvent } from '@kiln/event-store/port';
import { startFalStub, type FalStub } from '#src/providers/fal/stub.ts';
import { startReplicateStub, type ReplicateStub } from '#src/providers/replicate/stub.ts';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';
import { has, typesOf, waitForStream } from '#src/testing/waitFor.ts';

/**
 * Webhooks asked for (PUBLIC_URL set), but lost or late on the way: polling is the fallback, and what
 * both report lands in one ordered timeline on the job's stream.
 */

let replicate: ReplicateStub;
let fal: FalStub;
let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  // Three seconds from create to result (halfway at two): several polls see the job running.
  replicate = await startReplicateStub({ delayMs: 3_000 });
  fal = await startFalStub({ delayMs: 3_000 });
  kiln = await startCommandService({
    PROCESS_MANAGERS: 'true',
    REPLICATE_API_TOKEN: replicate.token,
    REPLICATE_BASE_URL: replicate.url,
    REPLICATE_WEBHOOK_SECRET: replicate.webhookSecret,
    FAL_KEY: fal.key,
    FAL_QUEUE_URL: fal.url,
    FAL_JWKS_URL: fal.jwksUrl,
    POLL_EVERY_MS: '200',
  });
});
afterEach(() => {
  replicate.releaseWebhooks();
  fal.releaseWebhooks();
});
afterAll(async () => {
  await kiln.stop();
  await replicate.close();
  await fal.close();
});

const requestImage = async (modelId: 'flux-schnell' | 'flux-dev') => {
  const { cookie, user } = await kiln.signUp();
  await kiln.grant(user.accountId, 100);
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: { request: { kind: 'image', modelId, prompt: 'a lighthouse', width: 512, height: 512, count: 1 } },
  });
  expect(answer.status).toBe(202);
  const jobId = (answer.body.data as { jobId: string }).jobId;
  const events = await waitForStream(kiln.store, jobStreamId(jobId), has('JobProviderSubmitted'));
  const submitted = events.find((event) => event.type === 'JobProviderSubmitted');
  if (submitted?.type !== 'JobProviderSubmitted') throw new Error('no JobProviderSubmitted');
  return { jobId, providerJobId: submitted.data.providerJobId };
};

/** The statuses Kiln answered a provider's webhooks with, in order, from its request log lines. */
const webhookStatuses = (provider: string): number[] =>
  kiln.logLines
    .filter((line) => line.includes(`/v1/webhooks/providers/${provider}`))
    .map((line) => (JSON.parse(line) as { status: number }).status);

/**
 * One ordered timeline: requested, submitted, progress that only moves forward (a poll saw the job
 * halfway), then one success, last.
 */
const expectOneTimeline = (events: RecordedEvent<KilnEvent>[]) => {
  const types = typesOf(events);
  expect(types.slice(0, 2)).toEqual(['JobRequested', 'JobProviderSubmitted']);
  expect(types.slice(2, -1).length).toBeGreaterThan(0);
  expect(new Set(types.slice(2, -1))).toEqual(new Set(['JobProgressed']));
  expect(types.at(-1)).toBe('JobSucceeded');
  const progressed = events.flatMap((event) => (event.type === 'JobProgressed' ? [event.data] : []));
  const progress = progressed.map((report) => report.progress);
  expect(progress).toEqual([...progress].sort((a, b) => a - b));
  expect(progress).toContain(0.5);
  // Once the provider runs the job, it is never reported back in the queue.
  const steps = progressed.map((report) => report.step);
  expect(steps.lastIndexOf('queued')).toBeLessThan(steps.findIndex((step) => step !== 'queued'));
};

const succeededOf = (events: RecordedEvent<KilnEvent>[]) => {
  const succeeded = events.find((event) => event.type === 'JobSucceeded');
  if (succeeded?.type !== 'JobSucceeded') throw new Error('no JobSucceeded');
  return succeeded.data;
};

describe('a lost webhook: polling follows the job to succeeded', () => {
  it('Replicate: every webhook of the prediction is lost', async () => {
    replicate.dropWebhooks();
    const [polls, answered] = [replicate.calls.status, webhookStatuses('replicate').length];
    const { jobId, providerJobId } = await requestImage('flux-schnell');
    const prediction = replicate.predictions.get(providerJobId);
    expect(prediction?.webhook).toBe(`${kiln.url}/v1/webhooks/providers/replicate`);

    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    expectOneTimeline(job);
    expect(succeededOf(job)).toMatchObject({
      provider: 'replicate',
      outputs: [{ index: 0, url: prediction?.output?.[0] }],
    });
    // The provider did send its webhooks (start, logs, output, completed); none reached Kiln.
    const lost = replicate
      .webhooksLost()
      .map((sent) => JSON.parse(sent.body) as { id: string; status: string });
    expect(lost.filter((body) => body.id === providerJobId).map((body) => body.status)).toContain(
      'succeeded',
    );
    expect(webhookStatuses('replicate')).toHaveLength(answered);
    expect(replicate.calls.status - polls).toBeGreaterThan(1);
  });

  it('fal: the one webhook of the request is lost', async () => {
    fal.dropWebhooks();
    const [polls, results, answered] = [fal.calls.status, fal.calls.result, webhookStatuses('fal').length];
    const { jobId, providerJobId } = await requestImage('flux-dev');
    expect(fal.requests.get(providerJobId)?.webhook).toBe(`${kiln.url}/v1/webhooks/providers/fal`);

    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    expectOneTimeline(job);
    expect(succeededOf(job)).toMatchObject({
      provider: 'fal',
      outputs: [{ index: 0, url: `${new URL(fal.url).origin}/files/${providerJobId}/0.png` }],
    });
    expect(fal.webhooksLost().map((sent) => sent.headers['x-fal-webhook-request-id'])).toContain(
      providerJobId,
    );
    expect(webhookStatuses('fal')).toHaveLength(answered);
    expect(fal.calls.status - polls).toBeGreaterThan(1);
    expect(fal.calls.result - results).toBeGreaterThan(0); // the outputs, fetched once COMPLETED
  });
});

describe('a late webhook: what polling recorded first stays, and nothing is recorded twice', () => {
  it('Replicate: the prediction’s webhooks all arrive after the success', async () => {
    replicate.holdWebhooks();
    const answered = webhookStatuses('replicate').length;
    const { jobId, providerJobId } = await requestImage('flux-schnell');
    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    expectOneTimeline(job);
    expect(webhookStatuses('replicate')).toHaveLength(answered);

    replicate.releaseWebhooks();
    await replicate.deliveriesIdle();
    const late = replicate.webhooksSent().filter((sent) => JSON.parse(sent.body).id === providerJobId);
    expect(late.map((sent) => (JSON.parse(sent.body) as { status: string }).status)).toContain('succeeded');
    // Each was taken (200, so Replicate stops retrying) and appended nothing: no second JobSucceeded.
    expect(webhookStatuses('replicate').slice(answered)).toEqual(late.map(() => 200));
    expect(await kiln.store.readStream(jobStreamId(jobId))).toEqual(job);
  });

  it('Replicate: webhooks that arrive while the job runs, after a poll saw it halfway, move nothing back', async () => {
    replicate.holdWebhooks();
    replicate.tuneNext({ delayMs: 6_000 }); // halfway at four seconds, done at six
    const answered = webhookStatuses('replicate').length;
    const { jobId, providerJobId } = await requestImage('flux-schnell');
    await waitForStream(kiln.store, jobStreamId(jobId), (events) =>
      events.some((event) => event.type === 'JobProgressed' && event.data.progress === 0.5),
    );
    expect(webhookStatuses('replicate')).toHaveLength(answered); // polling alone got it there
    replicate.releaseWebhooks(); // the start (queued) and the 0% and 50% logs, older than the poll
    await replicate.deliveriesIdle();
    const late = replicate.webhooksSent().filter((sent) => JSON.parse(sent.body).id === providerJobId);
    expect(late.map((sent) => (JSON.parse(sent.body) as { status: string }).status)).toContain('starting');
    expect(webhookStatuses('replicate').slice(answered, answered + late.length)).toEqual(late.map(() => 200));
    expect(typesOf(await kiln.store.readStream(jobStreamId(jobId)))).not.toContain('JobSucceeded');

    expectOneTimeline(await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded')));
  });

  it('fal: the completion webhook arrives after the success', async () => {
    fal.holdWebhooks();
    const answered = webhookStatuses('fal').length;
    const { jobId } = await requestImage('flux-dev');
    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    expectOneTimeline(job);
    expect(webhookStatuses('fal')).toHaveLength(answered);

    fal.releaseWebhooks();
    await fal.deliveriesIdle();
    expect(webhookStatuses('fal').slice(answered)).toEqual([200]);
    expect(await kiln.store.readStream(jobStreamId(jobId))).toEqual(job);
  });
});
