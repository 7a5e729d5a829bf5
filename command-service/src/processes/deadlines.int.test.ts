import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findModel } from '@kiln/contracts/catalog';
import { newEventId } from '@kiln/contracts/event-ids';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import { testEnv } from '@kiln/stack/testing';
import { billingDecider } from '#src/domain/billing/decide.ts';
import { failureMessages } from '#src/processes/providerStatus.ts';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';
import { has, typesOf, waitForStream } from '#src/testing/waitFor.ts';

let kiln: CommandServiceUnderTest;
let database: pg.Client;
beforeAll(async () => {
  kiln = await startCommandService({
    PROCESS_MANAGERS: 'true',
    LOCAL_PROVIDER_DELAY_MS: '1500',
    POLL_EVERY_MS: '150',
  });
  database = new pg.Client({ connectionString: testEnv().eventStoreUrl });
  await database.connect();
});
afterAll(async () => {
  await database.end();
  await kiln.stop();
});

/** The deadline of a job's row in the work list, once the request (not only the reservation) is in it. */
const workDeadlineOf = async (jobId: string) => {
  for (let tries = 0; tries < 200; tries += 1) {
    const { rows } = await database.query<{ stage: string; deadline: Date }>(
      `select stage, deadline from ${kiln.schemas.commandSchema}.job_work where job_id = $1`,
      [jobId],
    );
    if (rows[0]?.stage === 'requested' || rows[0]?.stage === 'submitted') return rows[0].deadline.getTime();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`job ${jobId} never reached the work list as requested`);
};

const metadata = () =>
  ({
    correlationId: 'deadline-test',
    causationId: null,
    actor: { kind: 'system', id: 'test' },
    at: new Date().toISOString(),
  }) as const;

describe('job deadlines', () => {
  it("gives each job its model's timeout from the catalog", async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 100);
    const requests = [
      { kind: 'image', modelId: 'kiln-local-image', prompt: 'a fern', width: 256, height: 256, count: 1 },
      {
        kind: 'video',
        modelId: 'kiln-local-animation',
        prompt: 'a fern',
        width: 256,
        height: 256,
        durationSeconds: 1,
        fps: 4,
      },
    ];
    for (const request of requests) {
      const answer = await kiln.call('POST', '/v1/jobs', {
        cookie,
        headers: { 'idempotency-key': randomUUID() },
        body: { request },
      });
      expect(answer.status).toBe(202);
      const { jobId, deadline } = answer.body.data as { jobId: string; deadline: string };
      const [requested] = await kiln.store.readStream(jobStreamId(jobId));
      if (requested?.type !== 'JobRequested') throw new Error('no JobRequested');
      const timeoutMs = (findModel(request.modelId)?.timeoutSeconds ?? 0) * 1000;
      expect(Date.parse(requested.data.deadline) - Date.parse(requested.metadata.at)).toBe(timeoutMs);
      expect(deadline).toBe(requested.data.deadline);
      // The worker acts on the same deadline, once the tracker has seen the request.
      expect(await workDeadlineOf(jobId)).toBe(Date.parse(requested.data.deadline));
    }
    expect(new Set(requests.map((request) => findModel(request.modelId)?.timeoutSeconds)).size).toBe(2);
  });

  it('fails a succeeded job whose artifacts never come, once its timeout has passed again, and releases its credits', async () => {
    const { user } = await kiln.signUp();
    await kiln.grant(user.accountId, 20);
    const jobId = `j_unstored_${randomUUID().slice(0, 8)}`;
    const timeoutMs = 6_000;
    await kiln.store.appendToStream(billingStreamId(user.accountId), [
      {
        id: newEventId(),
        type: 'CreditsReserved',
        data: { accountId: user.accountId, jobId, amount: 2 },
        metadata: metadata(),
      },
    ]);
    const requestedMetadata = metadata();
    await kiln.store.appendToStream(jobStreamId(jobId), [
      {
        id: newEventId(),
        type: 'JobRequested',
        data: {
          jobId,
          accountId: user.accountId,
          userId: user.id,
          request: {
            kind: 'image',
            modelId: 'kiln-local-image',
            prompt: 'lost',
            width: 256,
            height: 256,
            count: 1,
          },
          inputs: [],
          cost: 2,
          // A model with a short timeout: the job succeeds well within it, and nobody stores its artifacts.
          deadline: new Date(Date.parse(requestedMetadata.at) + timeoutMs).toISOString(),
        },
        metadata: requestedMetadata,
      },
    ]);
    const succeeded = (await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'))).find(
      (event) => event.type === 'JobSucceeded',
    );
    if (!succeeded) throw new Error('no JobSucceeded');

    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobFailed'), 30_000);
    const failed = job.find((event) => event.type === 'JobFailed');
    if (failed?.type !== 'JobFailed') throw new Error('no JobFailed');
    expect(failed.data).toEqual({
      jobId,
      code: 'timed_out',
      message: failureMessages.timed_out,
      retryable: true,
    });
    expect(Date.parse(failed.recordedAt)).toBeGreaterThanOrEqual(
      Date.parse(succeeded.recordedAt) + timeoutMs,
    );
    expect(typesOf(job)).not.toContain('JobCompleted');

    const billing = await waitForStream(kiln.store, billingStreamId(user.accountId), has('CreditsReleased'));
    const settled = billing.filter(
      (event) =>
        (event.type === 'CreditsReleased' || event.type === 'CreditsCaptured') && event.data.jobId === jobId,
    );
    expect(typesOf(settled)).toEqual(['CreditsReleased']);
    const account = billing.reduce(
      (state, event) => billingDecider.evolve(state, event as never),
      billingDecider.initialState(),
    );
    expect(account).toMatchObject({ reserved: 0, available: 20 });
  });
});
