import { randomBytes, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingStreamId } from '@kiln/contracts/streams';
import { startCommandService, WEBHOOK_SECRET, type CommandServiceUnderTest } from '#src/testing/harness.ts';

let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
});
afterAll(async () => kiln.stop());

type Delivery = { id: string; timestamp: Date; payload: string; signature: string };

/** What the payment provider sends: a body signed with Standard Webhooks. */
const sign = (
  payload: string,
  options: { secret?: string; timestamp?: Date; id?: string } = {},
): Delivery => {
  const id = options.id ?? `msg_${randomUUID()}`;
  const timestamp = options.timestamp ?? new Date();
  return {
    id,
    timestamp,
    payload,
    signature: new Webhook(options.secret ?? WEBHOOK_SECRET).sign(id, timestamp, payload),
  };
};

const deliver = (delivery: Delivery, body = delivery.payload) =>
  kiln.call('POST', '/v1/webhooks/payments', {
    headers: {
      'content-type': 'application/json',
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(delivery.timestamp.getTime() / 1000)),
      'webhook-signature': delivery.signature,
    },
    raw: body,
  });

const paymentOf = (accountId: string, credits: number, paymentId = `pay_${randomUUID()}`) =>
  JSON.stringify({ type: 'payment.succeeded', data: { paymentId, accountId, credits } });

const billing = (accountId: string) => kiln.store.readStream(billingStreamId(accountId));
const purchases = async (accountId: string) =>
  (await billing(accountId)).filter((event) => event.type === 'CreditsPurchased');

describe('POST /v1/webhooks/payments', () => {
  it('buys credits once for a signed payment, and answers a replay the same without charging again', async () => {
    const { user } = await kiln.signUp();
    const paymentId = `pay_${randomUUID()}`;
    const delivery = sign(paymentOf(user.accountId, 500, paymentId));
    const answer = await deliver(delivery);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ok: true, data: { paymentId, accountId: user.accountId, credits: 500 } });

    const bought = await purchases(user.accountId);
    expect(bought.map((event) => event.data)).toEqual([
      { accountId: user.accountId, amount: 500, paymentId },
    ]);
    expect(bought[0]?.metadata.actor).toEqual({ kind: 'system', id: 'payments' });
    expect(bought[0]?.metadata.correlationId).toBe(answer.headers.get('x-correlation-id'));

    const before = (await billing(user.accountId)).length;
    const replay = await deliver(delivery);
    expect(replay.status).toBe(200);
    expect(replay.body).toEqual(answer.body);
    // The provider may also send the same payment again as a new message.
    const resent = await deliver(sign(paymentOf(user.accountId, 500, paymentId)));
    expect(resent.status).toBe(200);
    expect(resent.body).toEqual(answer.body);
    expect(await billing(user.accountId)).toHaveLength(before);
    expect(await purchases(user.accountId)).toHaveLength(1);
  });

  it('credits a payment once when the provider delivers it several times at the same moment', async () => {
    const { user } = await kiln.signUp();
    const paymentId = `pay_${randomUUID()}`;
    const delivery = sign(paymentOf(user.accountId, 40, paymentId));
    const answers = await Promise.all(Array.from({ length: 6 }, () => deliver(delivery)));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200]);
    for (const answer of answers)
      expect(answer.body.data).toEqual({ paymentId, accountId: user.accountId, credits: 40 });
    expect((await purchases(user.accountId)).map((event) => event.data)).toEqual([
      { accountId: user.accountId, amount: 40, paymentId },
    ]);
  });

  it('refuses the same payment id with another amount (409) and appends nothing', async () => {
    const { user } = await kiln.signUp();
    const paymentId = `pay_${randomUUID()}`;
    expect((await deliver(sign(paymentOf(user.accountId, 100, paymentId)))).status).toBe(200);
    const before = await billing(user.accountId);
    const other = await deliver(sign(paymentOf(user.accountId, 900, paymentId)));
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('conflict');
    expect(await billing(user.accountId)).toEqual(before);
  });

  it('refuses a tampered body or a wrong secret with 401 and appends nothing', async () => {
    const { user } = await kiln.signUp();
    const paymentId = `pay_${randomUUID()}`;
    const signed = sign(paymentOf(user.accountId, 10, paymentId));
    const tampered = await deliver(signed, paymentOf(user.accountId, 10_000, paymentId));
    expect(tampered.status).toBe(401);
    expect(tampered.body.error.code).toBe('unauthenticated');

    const otherSecret = `whsec_${randomBytes(24).toString('base64')}`;
    const wrongSecret = await deliver(
      sign(paymentOf(user.accountId, 10, paymentId), { secret: otherSecret }),
    );
    expect(wrongSecret.status).toBe(401);

    const unsigned = await kiln.call('POST', '/v1/webhooks/payments', {
      headers: { 'content-type': 'application/json' },
      raw: paymentOf(user.accountId, 10, paymentId),
    });
    expect(unsigned.status).toBe(401);

    // A signature for another message id does not carry over to this one.
    const moved = { ...signed, id: `msg_${randomUUID()}` };
    expect((await deliver(moved)).status).toBe(401);

    expect((await billing(user.accountId)).map((event) => event.type)).toEqual(['BillingAccountOpened']);
    // The genuine delivery is still good.
    expect((await deliver(signed)).status).toBe(200);
  });

  it('refuses a delivery signed 10 minutes ago (401)', async () => {
    const { user } = await kiln.signUp();
    const old = sign(paymentOf(user.accountId, 10), { timestamp: new Date(Date.now() - 10 * 60 * 1000) });
    const answer = await deliver(old);
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe('unauthenticated');
    const future = sign(paymentOf(user.accountId, 10), { timestamp: new Date(Date.now() + 10 * 60 * 1000) });
    expect((await deliver(future)).status).toBe(401);
    expect(await purchases(user.accountId)).toEqual([]);
  });

  it('refuses a well-signed body that is not a valid payment (400)', async () => {
    const { user } = await kiln.signUp();
    const negative = await deliver(sign(paymentOf(user.accountId, -5)));
    expect(negative.status).toBe(400);
    expect(negative.body.error.code).toBe('validation_failed');
    expect(negative.body.error.details).toEqual([expect.objectContaining({ path: 'body.data.credits' })]);

    const otherType = await deliver(
      sign(
        JSON.stringify({
          type: 'payment.refunded',
          data: { paymentId: 'p1', accountId: user.accountId, credits: 5 },
        }),
      ),
    );
    expect(otherType.status).toBe(400);
    const notJson = await deliver(sign('{"type": "payment.succeeded", '));
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('validation_failed');
    expect(await purchases(user.accountId)).toEqual([]);
  });

  it('answers 404 for an account that does not exist', async () => {
    const accountId = `nobody-${randomUUID().slice(0, 8)}`;
    const answer = await deliver(sign(paymentOf(accountId, 50)));
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
    expect(await billing(accountId)).toEqual([]);
  });
});
