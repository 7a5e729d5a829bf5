import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '@kiln/stack/testing';
import {
  ADMIN,
  WEBHOOK_SECRET,
  startCommandService,
  type Answer,
  type CommandServiceUnderTest,
} from '#src/testing/harness.ts';

/**
 * A whole flow (sign-up, sign-in, a wrong password, an API token made, used and revoked, an invite, a
 * webhook delivery, a job), then a search for every secret it handled in everything the service said or
 * kept: log lines, answers, events, its own tables. Only the answers that hand a secret out once may hold it.
 */

let kiln: CommandServiceUnderTest;
/** Every answer of the flow, by what it was. */
const answers: Array<{ label: string; answer: Answer }> = [];
/** The secrets to look for, by name. */
const secrets: Record<string, string> = {};
/** The answers that hand out one secret, once: allowed to hold that one. */
const handsOut: Record<string, string> = {};

const SESSION_COOKIE = /^kiln_session=([^;]+)/;
const sessionTokenOf = (answer: Answer): string => {
  const token = SESSION_COOKIE.exec(answer.headers.get('set-cookie') ?? '')?.[1];
  if (!token) throw new Error(`no session cookie in ${JSON.stringify(answer.body)}`);
  return token;
};

const call = async (
  label: string,
  method: string,
  path: string,
  options: Parameters<typeof kiln.call>[2] = {},
) => {
  const answer = await kiln.call(method, path, options);
  answers.push({ label, answer });
  return answer;
};

const expectStatus = (answer: Answer, status: number) =>
  expect(answer.status, JSON.stringify(answer.body)).toBe(status);

beforeAll(async () => {
  kiln = await startCommandService();
  const name = `sec-${randomUUID().slice(0, 8)}`;
  const email = `${name}@kiln.test`;
  secrets['password'] = `pw-${randomUUID()}`;
  secrets['wrong password'] = `wrong-${randomUUID()}`;
  secrets['friend password'] = `friend-${randomUUID()}`;
  secrets['admin password'] = ADMIN.password;
  secrets['webhook secret'] = WEBHOOK_SECRET;
  secrets['webhook secret key'] = WEBHOOK_SECRET.slice('whsec_'.length);

  const signedUp = await call('sign-up', 'POST', '/v1/accounts/sign-up', {
    body: { email, password: secrets['password'], displayName: name },
  });
  expectStatus(signedUp, 201);
  secrets['sign-up session token'] = sessionTokenOf(signedUp);
  const user = signedUp.body.data.user as { id: string; accountId: string };

  // Failures that carry a secret in the request must not carry it back, nor into the log.
  expectStatus(
    await call('sign-up, invalid email', 'POST', '/v1/accounts/sign-up', {
      body: { email: 'not-an-email', password: secrets['password'], displayName: name },
    }),
    400,
  );
  expectStatus(
    await call('sign-in, malformed JSON', 'POST', '/v1/accounts/sign-in', {
      headers: { 'content-type': 'application/json' },
      raw: `{"email":"${email}","password":"${secrets['password']}"`,
    }),
    400,
  );
  expectStatus(
    await call('sign-in, wrong password', 'POST', '/v1/accounts/sign-in', {
      body: { email, password: secrets['wrong password'] },
    }),
    401,
  );

  const signedIn = await call('sign-in', 'POST', '/v1/accounts/sign-in', {
    body: { email, password: secrets['password'] },
  });
  expectStatus(signedIn, 200);
  secrets['session token'] = sessionTokenOf(signedIn);
  const cookie = kiln.cookieOf(signedIn);

  const adminSignedIn = await call('admin sign-in', 'POST', '/v1/accounts/sign-in', { body: ADMIN });
  expectStatus(adminSignedIn, 200);
  secrets['admin session token'] = sessionTokenOf(adminSignedIn);
  const adminCookie = kiln.cookieOf(adminSignedIn);

  const created = await call('API token created', 'POST', '/v1/accounts/tokens', {
    cookie,
    body: { name: 'ci' },
  });
  expectStatus(created, 201);
  secrets['API token'] = created.body.data.token;
  handsOut['API token created'] = secrets['API token']!;
  const bearer = { authorization: `Bearer ${secrets['API token']}` };
  const me = await call('me, by API token', 'GET', '/v1/accounts/me', { headers: bearer });
  expectStatus(me, 200);
  expect(me.body.data.id).toBe(user.id);
  expectStatus(
    await call('token revoked', 'DELETE', `/v1/accounts/tokens/${created.body.data.id}`, { cookie }),
    200,
  );
  expectStatus(await call('me, by revoked API token', 'GET', '/v1/accounts/me', { headers: bearer }), 401);
  expectStatus(
    await call('me, by malformed Authorization', 'GET', '/v1/accounts/me', {
      headers: { authorization: `Bearer ${secrets['password']}` },
    }),
    401,
  );

  // A payment, signed as the provider signs it; and one signed with a wrong secret.
  const payload = JSON.stringify({
    type: 'payment.succeeded',
    data: { paymentId: `pay_${randomUUID()}`, accountId: user.accountId, credits: 20 },
  });
  const delivery = (secret: string) => {
    const id = `msg_${randomUUID()}`;
    const at = new Date();
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, at, payload),
    };
  };
  expectStatus(
    await call('webhook', 'POST', '/v1/webhooks/payments', {
      headers: delivery(WEBHOOK_SECRET),
      raw: payload,
    }),
    200,
  );
  expectStatus(
    await call('webhook, wrong secret', 'POST', '/v1/webhooks/payments', {
      headers: delivery('whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'),
      raw: payload,
    }),
    401,
  );

  const job = await call('job', 'POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'kiln-local-image',
        prompt: 'a kiln',
        width: 512,
        height: 512,
        count: 1,
      },
    },
  });
  expectStatus(job, 202);

  // A shared session, an invite link and a friend joining by it.
  const session = await call('session', 'POST', '/v1/sessions', { cookie, body: { title: 'secrets' } });
  expectStatus(session, 201);
  const invite = await call('invite created', 'POST', `/v1/sessions/${session.body.data.sessionId}/invites`, {
    cookie,
  });
  expectStatus(invite, 201);
  secrets['invite token'] = invite.body.data.token;
  handsOut['invite created'] = secrets['invite token']!;
  const friend = await call('friend sign-up', 'POST', '/v1/accounts/sign-up', {
    body: { email: `friend-${name}@kiln.test`, password: secrets['friend password'], displayName: 'Friend' },
  });
  expectStatus(friend, 201);
  secrets['friend session token'] = sessionTokenOf(friend);
  expectStatus(
    await call('friend joins', 'POST', '/v1/sessions/join', {
      cookie: kiln.cookieOf(friend),
      body: { token: secrets['invite token'] },
    }),
    200,
  );
  expectStatus(
    await call('job added to the session', 'POST', `/v1/sessions/${session.body.data.sessionId}/jobs`, {
      cookie,
      body: { jobId: job.body.data.jobId },
    }),
    200,
  );

  expectStatus(
    await call('admin grant', 'POST', `/v1/admin/accounts/${user.accountId}/grants`, {
      cookie: adminCookie,
      headers: { 'idempotency-key': randomUUID() },
      body: { amount: 3, reason: 'a security test' },
    }),
    200,
  );
  expectStatus(await call('sign-out', 'POST', '/v1/accounts/sign-out', { cookie }), 200);
  expectStatus(await call('metrics', 'GET', '/metrics'), 200);
});
afterAll(async () => kiln?.stop());

/** Every secret (and a password hash) found in a text, by name. */
const leaksIn = (text: string, allowed?: string): string[] => [
  ...Object.entries(secrets)
    .filter(([, secret]) => secret !== allowed && text.includes(secret))
    .map(([name]) => name),
  ...(/scrypt\$/.test(text) ? ['a scrypt$ password hash'] : []),
];

describe('secrets stay secret', () => {
  it('handled real secrets: each is a long, distinct string', () => {
    const values = Object.values(secrets);
    expect(values.length).toBe(12);
    expect(new Set(values).size).toBe(values.length);
    for (const secret of values) expect(secret.length).toBeGreaterThanOrEqual(16);
  });

  it('writes none of them into any log line', () => {
    // The log did see the flow, failures included: the search below is not over an empty log.
    expect(kiln.logLines.some((line) => line.includes('/v1/accounts/sign-in') && line.includes('401'))).toBe(
      true,
    );
    expect(kiln.logLines.some((line) => line.includes('/v1/webhooks/payments'))).toBe(true);
    const leaks = kiln.logLines.flatMap((line) =>
      leaksIn(line).map((leak) => `${leak}: ${line.slice(0, 300)}`),
    );
    expect(leaks).toEqual([]);
  });

  it('answers none of them, but for the one answer that hands each out', () => {
    expect(answers.length).toBeGreaterThan(20);
    const leaks = answers.flatMap(({ label, answer }) => {
      const body = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      const headers = [...answer.headers].filter(([name]) => name !== 'set-cookie');
      return leaksIn(`${body}\n${JSON.stringify(headers)}`, handsOut[label]).map(
        (leak) => `${leak} in "${label}"`,
      );
    });
    expect(leaks).toEqual([]);
    // The one-time answers do hold their secret (so the search would find one that leaked).
    const handed = answers.filter(({ label }) => handsOut[label] !== undefined);
    expect(handed).toHaveLength(2);
    for (const { label, answer } of handed) expect(JSON.stringify(answer.body)).toContain(handsOut[label]);
  });

  it('stores none of them in any event', async () => {
    const events = await kiln.store.readAll({ maxCount: 100_000 });
    const types = new Set(events.map((event) => event.type));
    for (const type of ['CreditsPurchased', 'JobRequested', 'SessionMemberInvited', 'SessionMemberJoined'])
      expect(types, `no ${type} event: the flow did not run as planned`).toContain(type);
    const leaks = events.flatMap((event) =>
      leaksIn(JSON.stringify(event)).map((leak) => `${leak} in ${event.type}`),
    );
    expect(leaks).toEqual([]);
  });

  it('keeps none of them in plain text in its own tables', async () => {
    const client = new pg.Client({ connectionString: testEnv().eventStoreUrl });
    await client.connect();
    try {
      const { rows: tables } = await client.query<{ schema: string; name: string }>(
        `select table_schema as schema, table_name as name from information_schema.tables
         where table_schema = any($1) and table_type = 'BASE TABLE'`,
        [[kiln.schemas.identitySchema, kiln.schemas.commandSchema]],
      );
      expect(tables.map((table) => table.name)).toEqual(
        expect.arrayContaining(['users', 'sign_in_sessions', 'api_tokens', 'session_invites']),
      );
      const leaks: string[] = [];
      for (const table of tables) {
        const { rows } = await client.query<{ row: string }>(
          `select row_to_json(t)::text as row from ${table.schema}.${table.name} t`,
        );
        for (const { row } of rows) {
          // A password hash belongs in users.password_hash: only plain secrets count here.
          const found = leaksIn(row).filter((leak) => leak !== 'a scrypt$ password hash');
          leaks.push(...found.map((leak) => `${leak} in ${table.name}`));
        }
      }
      expect(leaks).toEqual([]);
    } finally {
      await client.end();
    }
  });
});
