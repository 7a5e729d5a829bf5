import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { billingStreamId, jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import type { EventStore } from '@kiln/event-store/port';
import { testEnv } from '@kiln/stack/testing';
import type { UploadStore } from '#src/adapters/uploadStore.ts';
import { ConcurrencyConflict, createCommandHandler, type CommandHandler } from '#src/app/commandHandler.ts';
import { createRequestJob, jobIdFor } from '#src/app/requestJob.ts';
import { billingDecider } from '#src/domain/billing/decide.ts';
import { sessionDecider } from '#src/domain/session/decide.ts';

const schema = `es_request_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
let store: EventStore<KilnEvent>;
beforeAll(async () => {
  store = await createPostgresEventStore<KilnEvent>({ connectionString: testEnv().eventStoreUrl, schema });
});
afterAll(async () => {
  await store.close();
  const admin = new pg.Client({ connectionString: testEnv().eventStoreUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

const context = (idempotencyKey: string) => ({
  correlationId: 'request-job-test',
  causationId: null,
  actor: { kind: 'user' as const, id: 'u_ana' },
  now: new Date(),
  idempotencyKey,
});
const noUploads = { resolve: () => Promise.resolve([]) } as unknown as UploadStore;
const image = {
  kind: 'image' as const,
  modelId: 'kiln-local-image',
  prompt: 'a kiln in a session',
  width: 512,
  height: 512,
  count: 1,
};

/** An account with credits, and a session it is a member of. */
const anAccountInASession = async (handle: CommandHandler) => {
  const accountId = `acc_${randomUUID().slice(0, 8)}`;
  const sessionId = `s_${randomUUID().replaceAll('-', '')}`;
  // Event ids derive from the command's key: each set-up command has its own.
  const system = () => ({ ...context(randomUUID()), actor: { kind: 'system' as const, id: 'test' } });
  await handle(
    billingDecider,
    billingStreamId(accountId),
    { type: 'OpenAccount', data: { accountId, ownerId: 'u_ana' } },
    system(),
  );
  await handle(
    billingDecider,
    billingStreamId(accountId),
    {
      type: 'GrantCredits',
      data: { accountId, amount: 20, reason: 'test credits', grantedBy: 'a', idempotencyKey: 'g' },
    },
    system(),
  );
  await handle(
    sessionDecider,
    sessionStreamId(sessionId),
    { type: 'OpenSession', data: { sessionId, title: 'dusk', ownerId: 'u_ana', ownerName: 'Ana' } },
    system(),
  );
  return { requester: { userId: 'u_ana', accountId }, sessionId };
};

describe('requesting a job into a session', () => {
  it('answers with where the job joined the session, so a read after it shows the job there', async () => {
    const handle = createCommandHandler(store);
    const { requester, sessionId } = await anAccountInASession(handle);
    const requestJob = createRequestJob({ handle, store, uploads: noUploads, maxActiveJobs: 5 });
    const accepted = await requestJob(requester, { request: image, sessionId }, context(randomUUID()));
    const added = (await store.readStream(sessionStreamId(sessionId))).find(
      (event) => event.type === 'SessionJobAdded',
    );
    expect(added?.data).toMatchObject({ jobId: accepted.jobId });
    expect(accepted.position).toBe(added?.position);
  });

  it('adds the job to its session on the retry of an attempt that stopped after recording it', async () => {
    const real = createCommandHandler(store);
    const { requester, sessionId } = await anAccountInASession(real);
    // The first attempt loses every race for the session's stream, after the job is recorded.
    let sessionAppendsRefused = 0;
    const handle = ((decider, streamId, command, commandContext) => {
      if ((command as { type: string }).type === 'AddJob' && sessionAppendsRefused === 0) {
        sessionAppendsRefused += 1;
        return Promise.reject(new ConcurrencyConflict(streamId));
      }
      return real(decider, streamId, command, commandContext);
    }) as CommandHandler;
    const requestJob = createRequestJob({ handle, store, uploads: noUploads, maxActiveJobs: 5 });
    const key = randomUUID();
    await expect(requestJob(requester, { request: image, sessionId }, context(key))).rejects.toBeInstanceOf(
      ConcurrencyConflict,
    );
    const jobId = jobIdFor(requester.userId, key);
    expect((await store.readStream(jobStreamId(jobId))).map((event) => event.type)).toEqual(['JobRequested']);

    const retried = await requestJob(requester, { request: image, sessionId }, context(key));
    expect(retried.jobId).toBe(jobId);
    const added = (await store.readStream(sessionStreamId(sessionId))).filter(
      (event) => event.type === 'SessionJobAdded',
    );
    expect(added.map((event) => event.data.jobId)).toEqual([jobId]);
    expect(retried.position).toBe(added[0]?.position);
    // And charged once.
    const reserved = (await store.readStream(billingStreamId(requester.accountId))).filter(
      (event) => event.type === 'CreditsReserved',
    );
    expect(reserved).toHaveLength(1);
  });
});
