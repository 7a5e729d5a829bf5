import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { RecordedEvent } from '@kiln/event-store/port';
import { failureMessages } from '#src/processes/providerStatus.ts';
import { startFalStub, type FalStub } from '#src/providers/fal/stub.ts';
import { startReplicateStub, type ReplicateStub } from '#src/providers/replicate/stub.ts';
import { startCommandService, type Answer, type CommandServiceUnderTest } from '#src/testing/harness.ts';
import { has, waitForStream } from '#src/testing/waitFor.ts';

const LOCAL_WEBHOOK_SECRET = 'whsec_c2VjcmV0cy10ZXN0LWxvY2FsLXByb3ZpZGVy';
const INTERNAL = ['10.1.2.3', '169.254.169.254', 'gpu-7', 'cluster.internal'];

let replicate: ReplicateStub;
let fal: FalStub;
let kiln: CommandServiceUnderTest;
const answers: Answer[] = [];
beforeAll(async () => {
  replicate = await startReplicateStub({ delayMs: 300 });
  fal = await startFalStub({ delayMs: 300 });
  kiln = await startCommandService({
    PROCESS_MANAGERS: 'true',
    POLL_EVERY_MS: '150',
    LOG_LEVEL: 'debug',
    LOCAL_PROVIDER_DELAY_MS: '200',
    LOCAL_PROVIDER_WEBHOOK_SECRET: LOCAL_WEBHOOK_SECRET,
    REPLICATE_API_TOKEN: replicate.token,
    REPLICATE_BASE_URL: replicate.url,
    REPLICATE_WEBHOOK_SECRET: replicate.webhookSecret,
    FAL_KEY: fal.key,
    FAL_QUEUE_URL: fal.url,
    FAL_JWKS_URL: fal.jwksUrl,
  });
});
afterAll(async () => {
  await kiln.stop();
  await replicate.close();
  await fal.close();
});

const requestJob = async (cookie: string, modelId: string) => {
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: { request: { kind: 'image', modelId, prompt: 'a quarry', width: 512, height: 512, count: 1 } },
  });
  answers.push(answer);
  expect(answer.status).toBe(202);
  return (answer.body.data as { jobId: string }).jobId;
};

const ended = (events: RecordedEvent<KilnEvent>[]) =>
  events.some((event) => event.type === 'JobSucceeded' || event.type === 'JobFailed');

describe('what reaches clients, events and logs of a provider', () => {
  it('carries no provider token, webhook secret or internal address, whatever the providers say', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 200);
    // A provider whose logs and errors spill its internals and Kiln's token, and one with an internal link.
    replicate.tuneNext({
      log: `connecting to http://10.1.2.3:9000 as Authorization: Bearer ${replicate.token} from 10.1.2.3:9000 (gpu-7.cluster.internal)`,
    });
    const chatty = await requestJob(cookie, 'flux-schnell');
    await waitForStream(kiln.store, jobStreamId(chatty), has('JobSucceeded'));
    replicate.failJobNext(`CUDA out of memory on 10.1.2.3, token ${replicate.token}`);
    const failing = await requestJob(cookie, 'flux-schnell');
    // Each tuning goes to the next prediction made: one job at the provider at a time.
    await waitForStream(kiln.store, jobStreamId(failing), has('JobProviderSubmitted'));
    replicate.tuneNext({ outputs: ['http://169.254.169.254/latest/meta-data/out.png'] });
    const pointing = await requestJob(cookie, 'flux-schnell');
    await waitForStream(kiln.store, jobStreamId(pointing), has('JobProviderSubmitted'));
    const others = [await requestJob(cookie, 'flux-dev'), await requestJob(cookie, 'kiln-local-image')];
    const jobs = [chatty, failing, pointing, ...others];
    for (const jobId of jobs) await waitForStream(kiln.store, jobStreamId(jobId), ended);
    await replicate.deliveriesIdle();
    await fal.deliveriesIdle();

    const streams = await Promise.all(jobs.map((jobId) => kiln.store.readStream(jobStreamId(jobId))));
    const [chattyJob, failingJob, pointingJob] = streams;
    const logs = (chattyJob ?? []).flatMap((event) =>
      event.type === 'JobProgressed' && event.data.log ? [event.data.log] : [],
    );
    expect(logs.some((line) => line.includes('[address]') && line.includes('[redacted]'))).toBe(true);
    expect(failingJob?.find((event) => event.type === 'JobFailed')?.data).toMatchObject({
      message: failureMessages.provider_error,
    });
    expect(pointingJob?.find((event) => event.type === 'JobFailed')?.data).toMatchObject({
      code: 'output_invalid',
    });

    // Client-readable: every job event. Output links are on the providers' configured origins only.
    const configured = new Set(
      [replicate.url, fal.url, kiln.service.processes.localProviderUrl].map((url) => new URL(url).origin),
    );
    for (const event of streams.flat()) {
      if (event.type === 'JobSucceeded')
        for (const output of event.data.outputs) expect(configured).toContain(new URL(output.url).origin);
    }
    const clientReadable = JSON.stringify(streams);
    for (const internal of INTERNAL) expect(clientReadable).not.toContain(internal);

    // Everywhere: every event in the store, every answer, every log line.
    const everything = [
      JSON.stringify(await kiln.store.readAll()),
      JSON.stringify(answers.map((answer): unknown => answer.body)),
      ...kiln.logLines,
    ].join('\n');
    const secrets = [
      replicate.token,
      replicate.webhookSecret,
      replicate.webhookSecret.slice('whsec_'.length),
      fal.key,
      fal.key.split(':')[1] ?? fal.key,
      LOCAL_WEBHOOK_SECRET,
      LOCAL_WEBHOOK_SECRET.slice('whsec_'.length),
    ];
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(kiln.logLines.length).toBeGreaterThan(20);
  });
});
