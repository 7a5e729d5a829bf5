import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';

let kiln: CommandServiceUnderTest;
let admin: Awaited<ReturnType<CommandServiceUnderTest['admin']>>;
beforeAll(async () => {
  kiln = await startCommandService();
  admin = await kiln.admin();
});
afterAll(async () => kiln.stop());

const grant = (accountId: string, body: unknown, options: { key?: string; cookie?: string } = {}) =>
  kiln.call('POST', `/v1/admin/accounts/${accountId}/grants`, {
    cookie: options.cookie ?? admin.cookie,
    headers: { 'idempotency-key': options.key ?? randomUUID() },
    body,
  });

const adjust = (accountId: string, body: unknown, key = randomUUID()) =>
  kiln.call('POST', `/v1/admin/accounts/${accountId}/adjustments`, {
    cookie: admin.cookie,
    headers: { 'idempotency-key': key },
    body,
  });

const billing = (accountId: string) => kiln.store.readStream(billingStreamId(accountId));
const typesOf = (events: { type: string }[]) => events.map((event) => event.type);

describe('POST /v1/admin/accounts/:accountId/grants', () => {
  it('is for admins only: 403 for a user, 401 for anyone else, and nothing is granted', async () => {
    const { user, cookie } = await kiln.signUp();
    const byUser = await grant(user.accountId, { amount: 100, reason: 'I deserve it' }, { cookie });
    expect(byUser.status).toBe(403);
    expect(byUser.body.error.code).toBe('forbidden');
    const anonymous = await kiln.call('POST', `/v1/admin/accounts/${user.accountId}/grants`, {
      headers: { 'idempotency-key': randomUUID() },
      body: { amount: 100, reason: 'I deserve it' },
    });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthenticated');
    expect(typesOf(await billing(user.accountId))).toEqual(['BillingAccountOpened']);
  });

  it('grants once per Idempotency-Key, recording the reason, the admin and the admin as actor', async () => {
    const { user } = await kiln.signUp();
    const key = randomUUID();
    const first = await grant(user.accountId, { amount: 250, reason: 'welcome credits' }, { key });
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(first.body).toEqual({
      ok: true,
      data: { accountId: user.accountId, position: expect.any(String) },
    });

    const events = await billing(user.accountId);
    expect(typesOf(events)).toEqual(['BillingAccountOpened', 'CreditsGranted']);
    const granted = events[1]!;
    expect(granted.data).toEqual({
      accountId: user.accountId,
      amount: 250,
      reason: 'welcome credits',
      grantedBy: admin.user.id,
      idempotencyKey: `${admin.user.id}/${key}`,
    });
    expect(granted.metadata.actor).toEqual({ kind: 'admin', id: admin.user.id });
    expect(granted.metadata.correlationId).toBe(first.headers.get('x-correlation-id'));
    expect(granted.position).toBe(first.body.data.position);

    const replay = await grant(user.accountId, { amount: 250, reason: 'welcome credits' }, { key });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(typesOf(await billing(user.accountId))).toEqual(['BillingAccountOpened', 'CreditsGranted']);

    // The same key for another grant is refused, and grants nothing.
    const reused = await grant(user.accountId, { amount: 999, reason: 'welcome credits' }, { key });
    expect(reused.status).toBe(422);
    expect(reused.body.error.code).toBe('idempotency_key_reused');
    expect(typesOf(await billing(user.accountId))).toEqual(['BillingAccountOpened', 'CreditsGranted']);
  });

  it('grants once when the same request is sent several times at the same moment', async () => {
    const { user } = await kiln.signUp();
    const key = randomUUID();
    const body = { amount: 30, reason: 'double-clicked the button' };
    const answers = await Promise.all(Array.from({ length: 6 }, () => grant(user.accountId, body, { key })));
    const statuses = answers.map((answer) => answer.status);
    // Each is either the grant (or its replay), or told that the first is still running.
    expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
    expect(statuses).toContain(200);
    for (const answer of answers.filter((answer) => answer.status === 409))
      expect(answer.body.error.code).toBe('conflict');
    expect((await billing(user.accountId)).filter((event) => event.type === 'CreditsGranted')).toHaveLength(
      1,
    );
  });

  it('keeps the keys of different admins apart: the same key from two admins grants twice', async () => {
    const { user } = await kiln.signUp();
    const other = { email: `admin-${randomUUID().slice(0, 8)}@kiln.test`, password: 'second-admin-password' };
    await kiln.service.identity.ensureAdmin({ ...other, displayName: 'Second admin' });
    const signedIn = await kiln.call('POST', '/v1/accounts/sign-in', { body: other });
    const key = randomUUID();
    const body = { amount: 3, reason: 'both admins mean it' };
    expect((await grant(user.accountId, body, { key })).status).toBe(200);
    expect((await grant(user.accountId, body, { key, cookie: kiln.cookieOf(signedIn) })).status).toBe(200);
    expect(typesOf(await billing(user.accountId)).filter((type) => type === 'CreditsGranted')).toHaveLength(
      2,
    );
  });

  it('answers 404 for an account that does not exist, and appends nothing', async () => {
    const accountId = `nobody-${randomUUID().slice(0, 8)}`;
    const answer = await grant(accountId, { amount: 5, reason: 'for nobody' });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
    expect(await billing(accountId)).toEqual([]);
  });

  it('needs a reason, a positive amount and a key (400)', async () => {
    const { user } = await kiln.signUp();
    const noReason = await grant(user.accountId, { amount: 5 });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.code).toBe('validation_failed');
    expect(noReason.body.error.details).toEqual([expect.objectContaining({ path: 'body.reason' })]);
    const shortReason = await grant(user.accountId, { amount: 5, reason: ' x ' });
    expect(shortReason.status).toBe(400);
    expect(shortReason.body.error.details).toEqual([
      { path: 'body.reason', message: 'say why, in a few words' },
    ]);
    const negative = await grant(user.accountId, { amount: -5, reason: 'taking some back' });
    expect(negative.status).toBe(400);
    expect(negative.body.error.details).toEqual([expect.objectContaining({ path: 'body.amount' })]);
    const noKey = await kiln.call('POST', `/v1/admin/accounts/${user.accountId}/grants`, {
      cookie: admin.cookie,
      body: { amount: 5, reason: 'no key given' },
    });
    expect(noKey.status).toBe(400);
    expect(typesOf(await billing(user.accountId))).toEqual(['BillingAccountOpened']);
  });
});

describe('POST /v1/admin/accounts/:accountId/adjustments', () => {
  it('adds credits, and refuses to take more than are available (402, nothing appended)', async () => {
    const { user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const up = await adjust(user.accountId, { amount: 5, reason: 'goodwill for a slow job' });
    expect(up.status).toBe(200);
    const afterUp = await billing(user.accountId);
    expect(afterUp.at(-1)).toMatchObject({
      type: 'CreditsAdjusted',
      data: {
        accountId: user.accountId,
        amount: 5,
        reason: 'goodwill for a slow job',
        adjustedBy: admin.user.id,
      },
      metadata: { actor: { kind: 'admin', id: admin.user.id } },
    });

    const key = randomUUID();
    const down = await adjust(user.accountId, { amount: -1000, reason: 'chargeback' }, key);
    expect(down.status).toBe(402);
    expect(down.body.error).toMatchObject({
      code: 'insufficient_credits',
      details: { required: 1000, available: 15, shortfall: 985 },
      retryable: false,
    });
    expect(await billing(user.accountId)).toEqual(afterUp);
    // A refusal is not kept for the key: the same request is decided again, and refused again.
    const retry = await adjust(user.accountId, { amount: -1000, reason: 'chargeback' }, key);
    expect(retry.status).toBe(402);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();

    // Down to exactly zero is allowed.
    const toZero = await adjust(user.accountId, { amount: -15, reason: 'chargeback' });
    expect(toZero.status).toBe(200);
    expect(typesOf(await billing(user.accountId))).toEqual([
      'BillingAccountOpened',
      'CreditsGranted',
      'CreditsAdjusted',
      'CreditsAdjusted',
    ]);
  });

  it('refuses an adjustment of zero (400) and a non-admin (403)', async () => {
    const { user, cookie } = await kiln.signUp();
    const zero = await adjust(user.accountId, { amount: 0, reason: 'nothing at all' });
    expect(zero.status).toBe(400);
    expect(zero.body.error.details).toEqual([
      { path: 'body.amount', message: 'an adjustment changes the balance' },
    ]);
    const byUser = await kiln.call('POST', `/v1/admin/accounts/${user.accountId}/adjustments`, {
      cookie,
      headers: { 'idempotency-key': randomUUID() },
      body: { amount: 50, reason: 'treat myself' },
    });
    expect(byUser.status).toBe(403);
    expect(typesOf(await billing(user.accountId))).toEqual(['BillingAccountOpened']);
  });
});
