import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { has, typesOf, waitForStream } from '@kiln/command-service/testing/wait-for';
import { startMediaProcessor, type MediaProcessorUnderTest } from '#src/testing/harness.ts';

let kiln: CommandServiceUnderTest;
let media: MediaProcessorUnderTest;
beforeAll(async () => {
  kiln = await startCommandService({
    PROCESS_MANAGERS: 'true',
    LOCAL_PROVIDER_DELAY_MS: '200',
    POLL_EVERY_MS: '150',
  });
  media = await startMediaProcessor(kiln.schemas);
});
afterAll(async () => {
  await media.stop();
  await kiln.stop();
});

/**
 * Waits for the media processor to have read up to a command's own position (its view of who may read
 * what). Not the head of `$all`: that lags while any transaction on the server is still open.
 */
const caughtUp = async (position: string) => {
  await media.processor.subscriber.reached(position);
};

const mediaGet = (path: string, cookie: string, headers: Record<string, string> = {}) =>
  fetch(`${media.url}${path}`, { headers: { cookie, ...headers } });

describe('a job from POST /v1/jobs through the local provider and the media processor to completed', () => {
  let owner: Awaited<ReturnType<CommandServiceUnderTest['signUp']>>;
  let jobId: string;
  let cost: number;
  beforeAll(async () => {
    owner = await kiln.signUp();
    await kiln.grant(owner.user.accountId, 50);
    const answer = await kiln.call('POST', '/v1/jobs', {
      cookie: owner.cookie,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        request: {
          kind: 'image',
          modelId: 'kiln-local-image',
          prompt: 'a kiln in the snow',
          width: 640,
          height: 480,
          count: 2,
          seed: 11,
        },
      },
    });
    expect(answer.status).toBe(202);
    ({ jobId, cost } = answer.body.data as { jobId: string; cost: number });
  });

  it('stores its artifacts on disk, completes it and captures its credits', async () => {
    const job = await waitForStream(kiln.store, jobStreamId(jobId), has('JobCompleted'), 30_000);
    expect(typesOf(job)).toEqual(
      expect.arrayContaining([
        'JobRequested',
        'JobProviderSubmitted',
        'JobSucceeded',
        'JobArtifactsStored',
        'JobCompleted',
      ]),
    );
    const stored = job.find((event) => event.type === 'JobArtifactsStored');
    if (stored?.type !== 'JobArtifactsStored') throw new Error('no artifacts event');
    expect(
      new Set(stored.data.artifacts.map((artifact) => `${artifact.outputIndex}/${artifact.variant}`)),
    ).toEqual(new Set(['0/original', '0/preview', '0/thumbnail', '1/original', '1/preview', '1/thumbnail']));
    for (const artifact of stored.data.artifacts) {
      const onDisk = await readFile(join(media.artifactsDir, artifact.storageKey));
      expect((await stat(join(media.artifactsDir, artifact.storageKey))).size).toBe(artifact.size);
      const meta = await sharp(onDisk).metadata();
      expect([meta.width, meta.height]).toEqual([artifact.width, artifact.height]);
    }
    const original = stored.data.artifacts.find((artifact) => artifact.variant === 'original');
    expect(original).toMatchObject({ width: 640, height: 480, contentType: 'image/png' });

    const billing = await waitForStream(
      kiln.store,
      billingStreamId(owner.user.accountId),
      has('CreditsCaptured'),
    );
    expect(billing.find((event) => event.type === 'CreditsCaptured')?.data).toMatchObject({
      jobId,
      amount: cost,
    });
  });

  it('serves its files to its owner, admins and members of its sessions only, while they are members', async () => {
    await waitForStream(kiln.store, jobStreamId(jobId), has('JobArtifactsStored'), 30_000);
    const { cookie } = owner;

    const thumbnail = await mediaGet(`/v1/media/jobs/${jobId}/0/thumbnail`, cookie);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/webp');
    expect(thumbnail.headers.get('cache-control')).toContain('immutable');
    const etag = thumbnail.headers.get('etag') ?? '';
    expect(
      (await mediaGet(`/v1/media/jobs/${jobId}/0/thumbnail`, cookie, { 'if-none-match': etag })).status,
    ).toBe(304);

    const stranger = await kiln.signUp();
    expect((await mediaGet(`/v1/media/jobs/${jobId}/0/thumbnail`, stranger.cookie)).status).toBe(404);
    expect((await fetch(`${media.url}/v1/media/jobs/${jobId}/0/thumbnail`)).status).toBe(401);

    // Added to a session, the job's files are for its members too.
    const session = await kiln.call('POST', '/v1/sessions', { cookie, body: { title: 'snow kilns' } });
    const sessionId = session.body.data.sessionId as string;
    await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, { cookie, body: { jobId } });
    const invite = await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, { cookie });
    const joined = await kiln.call('POST', '/v1/sessions/join', {
      cookie: stranger.cookie,
      body: { token: invite.body.data.token },
    });
    expect(joined.status).toBe(200);
    await caughtUp(joined.body.data.position as string);
    expect((await mediaGet(`/v1/media/jobs/${jobId}/0/preview`, stranger.cookie)).status).toBe(200);

    const admin = await kiln.admin();
    expect((await mediaGet(`/v1/media/jobs/${jobId}/1/original`, admin.cookie)).status).toBe(200);

    // Once they leave the session, its jobs' files are no longer theirs to see.
    const left = await kiln.call('POST', `/v1/sessions/${sessionId}/leave`, { cookie: stranger.cookie });
    expect(left.status).toBe(200);
    await caughtUp(left.body.data.position as string);
    expect((await mediaGet(`/v1/media/jobs/${jobId}/0/preview`, stranger.cookie)).status).toBe(404);
    expect((await mediaGet(`/v1/media/jobs/${jobId}/0/preview`, cookie)).status).toBe(200);
  });
});
