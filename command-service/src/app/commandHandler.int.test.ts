import { randomUUID } from 'node:crypto';
import express from 'express';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KilnEvent } from '@kiln/contracts/events';
import { billingStreamId, sessionStreamId } from '@kiln/contracts/streams';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import type { EventStore } from '@kiln/event-store/port';
import { errorMiddleware } from '@kiln/service-kit/http';
import { serve } from '@kiln/service-kit/server';
import { createLogger } from '@kiln/service-kit/logger';
import { testEnv } from '@kiln/stack/testing';
import { ConcurrencyConflict, createCommandHandler, type CommandContext } from '#src/app/commandHandler.ts';
import { billingDecider } from '#src/domain/billing/decide.ts';
import { sessionDecider } from '#src/domain/session/decide.ts';
import { DomainError } from '#src/domain/errors.ts';
import { mapCommandError } from '#src/http/errors.ts';

const schema = `es_handler_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
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

const context = (): CommandContext => ({
  correlationId: 'handler-test',
  causationId: null,
  actor: { kind: 'system', id: 'test' },
  now: new Date(),
});

describe('command handler with cached state, two instances on one store', () => {
  it('never decides on a stale cache: each instance catches up before a refusal or after a conflict', async () => {
    const [first, second] = [createCommandHandler(store), createCommandHandler(store)];
    const accountId = `acc_${randomUUID().slice(0, 8)}`;
    const stream = billingStreamId(accountId);
    await first(
      billingDecider,
      stream,
      { type: 'OpenAccount', data: { accountId, ownerId: 'u' } },
      context(),
    );
    await first(
      billingDecider,
      stream,
      {
        type: 'GrantCredits',
        data: { accountId, amount: 5, reason: 'test credits', grantedBy: 'a', idempotencyKey: 'g1' },
      },
      context(),
    );
    // The second instance has never seen the account: it must read it rather than refuse "does not exist".
    const reserve = (jobId: string) => ({
      type: 'ReserveCredits' as const,
      data: { accountId, jobId, amount: 2, maxActiveJobs: 10 },
    });
    await second(billingDecider, stream, reserve('j1'), context());
    // The first instance's cache is now behind by one event: its append conflicts, it catches up, decides again.
    const result = await first(billingDecider, stream, reserve('j2'), context());
    expect(result.state.available).toBe(1);
    // Both caches are behind or current; either way a third reservation is refused for lack of credits.
    await expect(second(billingDecider, stream, reserve('j3'), context())).rejects.toSatisfy(
      (error) => error instanceof DomainError && error.code === 'insufficient_credits',
    );
    const types = (await store.readStream(stream)).map((event) => event.type);
    expect(types).toEqual(['BillingAccountOpened', 'CreditsGranted', 'CreditsReserved', 'CreditsReserved']);
  });

  it('answers a repeated command on a stale cache from the current state, not the cached one', async () => {
    const [first, second] = [createCommandHandler(store), createCommandHandler(store)];
    const accountId = `acc_${randomUUID().slice(0, 8)}`;
    const stream = billingStreamId(accountId);
    await first(
      billingDecider,
      stream,
      { type: 'OpenAccount', data: { accountId, ownerId: 'u' } },
      context(),
    );
    await first(
      billingDecider,
      stream,
      {
        type: 'GrantCredits',
        data: { accountId, amount: 5, reason: 'test credits', grantedBy: 'a', idempotencyKey: 'g1' },
      },
      context(),
    );
    await first(
      billingDecider,
      stream,
      { type: 'ReserveCredits', data: { accountId, jobId: 'j1', amount: 2, maxActiveJobs: 10 } },
      context(),
    );
    await second(
      billingDecider,
      stream,
      { type: 'CaptureCredits', data: { accountId, jobId: 'j1' } },
      context(),
    );
    // first's cache still has j1 open: releasing it must be refused (it was captured), not appended.
    await expect(
      first(
        billingDecider,
        stream,
        { type: 'ReleaseCredits', data: { accountId, jobId: 'j1', reason: 'job failed' } },
        context(),
      ),
    ).rejects.toSatisfy((error) => error instanceof DomainError && error.code === 'rule_broken');
  });
});

describe('command handler under contention it cannot win', () => {
  /** The store, but before each of the handler's appends another writer appends to the same stream. */
  const contendedBy = (competitor: (streamId: string) => Promise<void>): EventStore<KilnEvent> => ({
    ...store,
    appendToStream: async (streamId, events, options) => {
      await competitor(streamId);
      return store.appendToStream(streamId, events, options);
    },
  });

  it('gives up after its attempts with ConcurrencyConflict, appends nothing, and is answered 409', async () => {
    const accountId = `acc_${randomUUID().slice(0, 8)}`;
    const stream = billingStreamId(accountId);
    const setUp = createCommandHandler(store);
    await setUp(
      billingDecider,
      stream,
      { type: 'OpenAccount', data: { accountId, ownerId: 'u' } },
      context(),
    );
    await setUp(
      billingDecider,
      stream,
      {
        type: 'GrantCredits',
        data: { accountId, amount: 5, reason: 'test credits', grantedBy: 'a', idempotencyKey: 'g1' },
      },
      context(),
    );
    let competing = 0;
    const rival = createCommandHandler(store);
    const grantFirst = async (streamId: string) => {
      competing += 1;
      await rival(
        billingDecider,
        streamId,
        {
          type: 'GrantCredits',
          data: { accountId, amount: 1, reason: 'rival', grantedBy: 'a', idempotencyKey: `r${competing}` },
        },
        context(),
      );
    };
    const handle = createCommandHandler(contendedBy(grantFirst), { maxAttempts: 3 });
    const reserve = () =>
      handle(
        billingDecider,
        stream,
        { type: 'ReserveCredits', data: { accountId, jobId: 'j1', amount: 1, maxActiveJobs: 10 } },
        context(),
      );

    const app = express();
    app.post('/reserve', async (_req, res) => void res.json(await reserve()));
    app.use(errorMiddleware({ mapError: mapCommandError }));
    const serving = await serve(app, { port: 0, logger: createLogger({ service: 'test', level: 'silent' }) });
    try {
      const answer = await fetch(`${serving.url}/reserve`, { method: 'POST' });
      expect(answer.status).toBe(409);
      expect(await answer.json()).toMatchObject({ ok: false, error: { code: 'conflict', retryable: true } });
    } finally {
      await serving.close();
    }
    // Every attempt lost to the rival, and the handler says so.
    expect(competing).toBe(3);
    await expect(reserve()).rejects.toBeInstanceOf(ConcurrencyConflict);
    expect(competing).toBe(6);
    const types = (await store.readStream(stream)).map((event) => event.type);
    expect(types).not.toContain('CreditsReserved');
    expect(types).toEqual(['BillingAccountOpened', ...Array(1 + 3 + 3).fill('CreditsGranted')]);
  });
});

describe('command handler with many writers racing for one stream', () => {
  it('lets twenty instances append to one stream at once: backed off after each conflict, every one gets in', async () => {
    const sessionId = `s_${randomUUID().replaceAll('-', '')}`;
    const stream = sessionStreamId(sessionId);
    const owner = createCommandHandler(store);
    await owner(
      sessionDecider,
      stream,
      { type: 'OpenSession', data: { sessionId, title: 'launch', ownerId: 'u_owner', ownerName: 'Owner' } },
      context(),
    );
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    await owner(
      sessionDecider,
      stream,
      { type: 'InviteMember', data: { sessionId, inviteId: 'i_1', invitedBy: 'u_owner', expiresAt } },
      context(),
    );
    // Twenty people open the invite link at the same moment, each served by an instance of its own.
    const joins = Array.from({ length: 20 }, (_, n) =>
      createCommandHandler(store)(
        sessionDecider,
        stream,
        {
          type: 'JoinSession',
          data: {
            sessionId,
            userId: `u_${n}`,
            displayName: `member ${n}`,
            inviteId: 'i_1',
            now: new Date().toISOString(),
          },
        },
        context(),
      ),
    );
    const outcomes = await Promise.allSettled(joins);
    expect(outcomes.filter((outcome) => outcome.status === 'rejected')).toEqual([]);
    const joined = (await store.readStream(stream)).filter((event) => event.type === 'SessionMemberJoined');
    expect(joined).toHaveLength(21);
  });
});
