import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import {
  evolveBilling,
  initialBillingState,
  type BillingEventBody,
} from '@kiln/command-service/domain/billing';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { has, typesOf, waitForStream } from '@kiln/command-service/testing/wait-for';
import { filesUnder } from '#src/testing/files.ts';
import { startMediaProcessor, type MediaProcessorUnderTest } from '#src/testing/harness.ts';

let kiln: CommandServiceUnderTest;
let media: MediaProcessorUnderTest;
beforeAll(async () => {
  kiln = await startCommandService({
    PROCESS_MANAGERS: 'true',
    LOCAL_PROVIDER_DELAY_MS: '200',
    POLL_EVERY_MS: '150',
  });
  // The local provider's pictures are tens of KB: every one is past this processor's cap.
  media = await startMediaProcessor(kiln.schemas, { DOWNLOAD_MAX_BYTES: '1024' });
});
afterAll(async () => {
  await media.stop();
  await kiln.stop();
});

describe('a job whose output the media processor refuses', () => {
  it('fails with output_too_large, and the write side releases its credits', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 50);
    const answer = await kiln.call('POST', '/v1/jobs', {
      cookie,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        request: {
          kind: 'image',
          modelId: 'kiln-local-image',
          prompt: 'a kiln too large',
          width: 640,
          height: 480,
          count: 1,
        },
      },
    });
    expect(answer.status).toBe(202);
    const { jobId, cost } = answer.body.data as { jobId: string; cost: number };

    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobFailed'), 30_000);
    expect(typesOf(job).filter((type) => type !== 'JobProgressed')).toEqual([
      'JobRequested',
      'JobProviderSubmitted',
      'JobSucceeded',
      'JobFailed',
    ]);
    const failed = job.at(-1);
    expect(failed?.data).toMatchObject({ jobId, code: 'output_too_large', retryable: false });
    expect(failed?.metadata.actor).toEqual({ kind: 'system', id: 'media-processor' });

    const billing = await waitForStream(kiln.store, billingStreamId(user.accountId), has('CreditsReleased'));
    expect(billing.find((event) => event.type === 'CreditsReleased')?.data).toMatchObject({
      jobId,
      amount: cost,
    });
    expect(typesOf(billing)).not.toContain('CreditsCaptured');
    // Folded as the write side folds it: the account's stream holds billing events only.
    const balance = billing.reduce(
      (state, event) => evolveBilling(state, event as unknown as BillingEventBody),
      initialBillingState(),
    );
    expect({ available: balance.available, reserved: balance.reserved }).toEqual({
      available: 50,
      reserved: 0,
    });

    expect(await filesUnder(media.artifactsDir)).toEqual([]);
    expect(await media.metric('kiln_media_failed_total', { code: 'output_too_large' })).toBe(1);
    expect((await fetch(`${media.url}/healthz`)).status).toBe(200);
  });
});
