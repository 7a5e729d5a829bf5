import { randomUUID } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newEventId } from '@kiln/contracts/event-ids';
import type { KilnEvent } from '@kiln/contracts/events';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import { billingDecider } from '#src/domain/billing/decide.ts';
import { failureMessages } from '#src/processes/providerStatus.ts';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';
import { has, typesOf, waitForStream } from '#src/testing/waitFor.ts';

let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService({
    PROCESS_MANAGERS: 'true',
    LOCAL_PROVIDER_DELAY_MS: '300',
    POLL_EVERY_MS: '150',
  });
});
afterAll(async () => kiln.stop());

const requestImage = async (cookie: string, request: Record<string, unknown> = {}) => {
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'kiln-local-image',
        prompt: 'a kiln at dusk',
        width: 320,
        height: 200,
        count: 2,
        seed: 7,
        ...request,
      },
    },
  });
  expect(answer.status).toBe(202);
  return answer.body.data as { jobId: string; cost: number };
};

/** What the media processor appends once it has stored the outputs: the process manager's cue. */
const artifactsStored = (jobId: string): KilnEvent => ({
  id: newEventId(),
  type: 'JobArtifactsStored',
  data: {
    jobId,
    artifacts: [
      {
        artifactId: `${jobId}-0-original`,
        outputIndex: 0,
        variant: 'original',
        storageKey: `${jobId}/0/original.png`,
        contentType: 'image/png',
        size: 1234,
        width: 320,
        height: 200,
        sha256: 'a'.repeat(64),
      },
    ],
  },
  metadata: {
    correlationId: 'media-processor-test',
    causationId: null,
    actor: { kind: 'system', id: 'media-processor' },
    at: new Date().toISOString(),
  },
});

/** The account as a fresh fold of its billing stream: the audit's view. */
const balanceOf = async (accountId: string) => {
  const events = await kiln.store.readStream(billingStreamId(accountId));
  const state = events.reduce(
    (folded, event) => billingDecider.evolve(folded, event as never),
    billingDecider.initialState(),
  );
  return { available: state.available, reserved: state.reserved, types: typesOf(events) };
};

describe('a job from POST /v1/jobs to completed, with the local provider', () => {
  it('is submitted, rendered, succeeds with downloadable outputs, then is completed and paid for', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 50);
    const { jobId, cost } = await requestImage(cookie);

    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
    expect(typesOf(job).slice(0, 2)).toEqual(['JobRequested', 'JobProviderSubmitted']);
    expect(typesOf(job)).toContain('JobProgressed');
    const succeeded = job.find((event) => event.type === 'JobSucceeded');
    if (succeeded?.type !== 'JobSucceeded') throw new Error('no JobSucceeded');
    expect(succeeded.data.outputs).toHaveLength(2);
    for (const output of succeeded.data.outputs) {
      const response = await fetch(output.url);
      expect(response.headers.get('content-type')).toBe('image/png');
      expect(await sharp(Buffer.from(await response.arrayBuffer())).metadata()).toMatchObject({
        width: 320,
        height: 200,
        format: 'png',
      });
    }
    // Succeeded but not completed: credits stay reserved until the artifacts are stored.
    expect(await balanceOf(user.accountId)).toMatchObject({ available: 50 - cost, reserved: cost });

    await kiln.store.appendToStream(jobStreamId(jobId), [artifactsStored(jobId)]);
    const done = await waitForStream(kiln.store, jobStreamId(jobId), has('JobCompleted'));
    expect(typesOf(done).filter((type) => type === 'JobCompleted')).toHaveLength(1);
    const balance = await balanceOf(user.accountId);
    expect(balance).toMatchObject({ available: 50 - cost, reserved: 0 });
    expect(balance.types.filter((type) => type === 'CreditsCaptured')).toHaveLength(1);
  });

  it('releases the credits of a job the provider fails', async () => {
    const failing = await startCommandService({
      PROCESS_MANAGERS: 'true',
      LOCAL_PROVIDER_DELAY_MS: '100',
      LOCAL_PROVIDER_FAILURE_RATE: '1',
      POLL_EVERY_MS: '150',
    });
    try {
      const { cookie, user } = await failing.signUp();
      await failing.grant(user.accountId, 20);
      const answer = await failing.call('POST', '/v1/jobs', {
        cookie,
        headers: { 'idempotency-key': randomUUID() },
        body: {
          request: {
            kind: 'image',
            modelId: 'kiln-local-image',
            prompt: 'x',
            width: 256,
            height: 256,
            count: 1,
          },
        },
      });
      const { jobId } = answer.body.data as { jobId: string };
      const job = await waitForStream(failing.store, jobStreamId(jobId), has('JobFailed'));
      const failed = job.find((event) => event.type === 'JobFailed');
      expect(failed?.data).toMatchObject({ code: expect.any(String), retryable: expect.any(Boolean) });
      // Kiln's own words: nothing of the provider's error text reaches an event a client can read.
      expect(Object.values(failureMessages)).toContain((failed?.data as { message: string }).message);
      const billing = await waitForStream(
        failing.store,
        billingStreamId(user.accountId),
        has('CreditsReleased'),
      );
      expect(typesOf(billing).filter((type) => type === 'CreditsReleased')).toHaveLength(1);
    } finally {
      await failing.stop();
    }
  });

  it('cancels a running job at the provider and releases its credits', async () => {
    const slow = await startCommandService({
      PROCESS_MANAGERS: 'true',
      LOCAL_PROVIDER_DELAY_MS: '20000',
      POLL_EVERY_MS: '150',
    });
    try {
      const { cookie, user } = await slow.signUp();
      await slow.grant(user.accountId, 20);
      const answer = await slow.call('POST', '/v1/jobs', {
        cookie,
        headers: { 'idempotency-key': randomUUID() },
        body: {
          request: {
            kind: 'image',
            modelId: 'kiln-local-image',
            prompt: 'x',
            width: 256,
            height: 256,
            count: 1,
          },
        },
      });
      const { jobId } = answer.body.data as { jobId: string };
      await waitForStream(slow.store, jobStreamId(jobId), has('JobProviderSubmitted'));
      const cancel = await slow.call('POST', `/v1/jobs/${jobId}/cancel`, { cookie, body: {} });
      expect(cancel.body.data.status).toBe('cancel_requested');
      const job = await waitForStream(slow.store, jobStreamId(jobId), has('JobCanceled'));
      expect(typesOf(job)).not.toContain('JobSucceeded');
      await waitForStream(slow.store, billingStreamId(user.accountId), has('CreditsReleased'));
    } finally {
      await slow.stop();
    }
  });

  it('times out a job past its deadline, and releases a reservation whose job was never recorded', async () => {
    const quick = await startCommandService({
      PROCESS_MANAGERS: 'true',
      LOCAL_PROVIDER_DELAY_MS: '60000',
      POLL_EVERY_MS: '150',
      ORPHAN_RESERVATION_SECONDS: '1',
    });
    try {
      const { user } = await quick.signUp();
      await quick.grant(user.accountId, 20);
      const metadata = {
        correlationId: 'timeout-test',
        causationId: null,
        actor: { kind: 'system', id: 'test' },
        at: new Date().toISOString(),
      } as const;
      const [late, orphan] = [`j_late_${randomUUID().slice(0, 8)}`, `j_orphan_${randomUUID().slice(0, 8)}`];
      // A job whose model deadline is already behind it, as if the service had been down for a while.
      await quick.store.appendToStream(billingStreamId(user.accountId), [
        {
          id: newEventId(),
          type: 'CreditsReserved',
          data: { accountId: user.accountId, jobId: late, amount: 2 },
          metadata,
        },
        {
          id: newEventId(),
          type: 'CreditsReserved',
          data: { accountId: user.accountId, jobId: orphan, amount: 3 },
          metadata,
        },
      ]);
      await quick.store.appendToStream(jobStreamId(late), [
        {
          id: newEventId(),
          type: 'JobRequested',
          data: {
            jobId: late,
            accountId: user.accountId,
            userId: user.id,
            request: {
              kind: 'image',
              modelId: 'kiln-local-image',
              prompt: 'late',
              width: 256,
              height: 256,
              count: 1,
            },
            inputs: [],
            cost: 2,
            deadline: new Date(Date.now() + 1_500).toISOString(),
          },
          metadata,
        },
      ]);
      const job = await waitForStream(quick.store, jobStreamId(late), has('JobTimedOut'));
      expect(typesOf(job)).toContain('JobTimedOut');
      const billing = await waitForStream(
        quick.store,
        billingStreamId(user.accountId),
        (events) => events.filter((event) => event.type === 'CreditsReleased').length === 2,
      );
      const released = billing
        .filter((event) => event.type === 'CreditsReleased')
        .map((event) => (event.data as { jobId: string }).jobId);
      expect(released.sort()).toEqual([late, orphan].sort());
    } finally {
      await quick.stop();
    }
  });
});

describe('process managers running in two instances at once', () => {
  it('submit, complete and charge each job once', async () => {
    const twin = await startCommandService(
      { PROCESS_MANAGERS: 'true', LOCAL_PROVIDER_DELAY_MS: '300', POLL_EVERY_MS: '150' },
      { replicaOf: { schemas: kiln.schemas, rateLimitPrefix: `twin-${randomUUID()}` } },
    );
    try {
      const { cookie, user } = await kiln.signUp();
      await kiln.grant(user.accountId, 100);
      const jobs = await Promise.all(Array.from({ length: 5 }, () => requestImage(cookie, { count: 1 })));
      for (const { jobId } of jobs) {
        await waitForStream(kiln.store, jobStreamId(jobId), has('JobSucceeded'));
        await kiln.store.appendToStream(jobStreamId(jobId), [artifactsStored(jobId)]);
      }
      for (const { jobId } of jobs) {
        const events = typesOf(await waitForStream(kiln.store, jobStreamId(jobId), has('JobCompleted')));
        expect(events.filter((type) => type === 'JobProviderSubmitted')).toHaveLength(1);
        expect(events.filter((type) => type === 'JobCompleted')).toHaveLength(1);
      }
      await waitForStream(
        kiln.store,
        billingStreamId(user.accountId),
        (events) => events.filter((e) => e.type === 'CreditsCaptured').length >= 5,
      );
      const billing = typesOf(await kiln.store.readStream(billingStreamId(user.accountId)));
      expect(billing.filter((type) => type === 'CreditsCaptured')).toHaveLength(5);
      expect(billing.filter((type) => type === 'CreditsReleased')).toHaveLength(0);
      expect(await balanceOf(user.accountId)).toMatchObject({ reserved: 0 });
    } finally {
      await twin.stop();
    }
  });
});
