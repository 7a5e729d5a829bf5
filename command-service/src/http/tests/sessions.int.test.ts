import { createHash, randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testEnv } from '@kiln/stack/testing';
import { newEventId } from '@kiln/contracts/event-ids';
import { billingStreamId, jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '#src/testing/harness.ts';

const imageRequest = {
  request: {
    kind: 'image',
    modelId: 'kiln-local-image',
    prompt: 'a shared kiln',
    width: 512,
    height: 512,
    count: 1,
  },
};

let kiln: CommandServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
});
afterAll(async () => kiln.stop());

type Person = Awaited<ReturnType<CommandServiceUnderTest['signUp']>>;

const sessionEvents = async (sessionId: string) => kiln.store.readStream(sessionStreamId(sessionId));
const typesOf = (events: { type: string }[]) => events.map((event) => event.type);
const eventCount = async () => (await kiln.store.readAll({ maxCount: 100_000 })).length;

const openSession = async (owner: Person, title = 'studio night') => {
  const answer = await kiln.call('POST', '/v1/sessions', { cookie: owner.cookie, body: { title } });
  expect(answer.status).toBe(201);
  return answer.body.data.sessionId as string;
};

const invite = (member: Person, sessionId: string) =>
  kiln.call('POST', `/v1/sessions/${sessionId}/invites`, { cookie: member.cookie });

const join = (member: Person, token: string) =>
  kiln.call('POST', '/v1/sessions/join', { cookie: member.cookie, body: { token } });

/** A job of the person's own, paid with credits an admin granted. */
const jobOf = async (person: Person, extra: Record<string, unknown> = {}) => {
  await kiln.grant(person.user.accountId, 10);
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie: person.cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: { ...imageRequest, ...extra },
  });
  expect(answer.status).toBe(202);
  return answer.body.data.jobId as string;
};

/** A session with its owner and a second member who joined by invite. */
const sessionWithTwoMembers = async () => {
  const owner = await kiln.signUp();
  const member = await kiln.signUp();
  const sessionId = await openSession(owner);
  const made = await invite(owner, sessionId);
  expect((await join(member, made.body.data.token)).status).toBe(200);
  return { owner, member, sessionId };
};

describe('POST /v1/sessions', () => {
  it('opens a session with its owner as the first member', async () => {
    const owner = await kiln.signUp('owner');
    const answer = await kiln.call('POST', '/v1/sessions', {
      cookie: owner.cookie,
      body: { title: '  late firing  ' },
    });
    expect(answer.status).toBe(201);
    expect(answer.body).toEqual({
      ok: true,
      data: { sessionId: expect.stringMatching(/^s_[0-9a-f]{32}$/), position: expect.any(String) },
    });
    const { sessionId } = answer.body.data;
    const events = await sessionEvents(sessionId);
    expect(answer.body.data.position).toBe(events[1]?.position);
    expect(typesOf(events)).toEqual(['SessionOpened', 'SessionMemberJoined']);
    expect(events[0]?.data).toEqual({ sessionId, title: 'late firing', ownerId: owner.user.id });
    expect(events[1]?.data).toEqual({ sessionId, userId: owner.user.id, displayName: 'owner' });
    expect(events[0]?.metadata.actor).toEqual({ kind: 'user', id: owner.user.id });
  });

  it('needs a title and a signed-in user', async () => {
    const owner = await kiln.signUp();
    const untitled = await kiln.call('POST', '/v1/sessions', {
      cookie: owner.cookie,
      body: { title: '   ' },
    });
    expect(untitled.status).toBe(400);
    expect(untitled.body.error.details).toEqual([expect.objectContaining({ path: 'body.title' })]);
    const anonymous = await kiln.call('POST', '/v1/sessions', { body: { title: 'x' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthenticated');
  });
});

describe('invites', () => {
  it('gives the token once, and never stores it in an event', async () => {
    const owner = await kiln.signUp();
    const sessionId = await openSession(owner);
    const before = Date.now();
    const made = await invite(owner, sessionId);
    expect(made.status).toBe(201);
    const { inviteId, token, expiresAt } = made.body.data;
    expect(inviteId).toMatch(/^i_[0-9a-f]{32}$/);
    expect(token).toEqual(expect.any(String));
    expect(token.length).toBeGreaterThanOrEqual(32);
    // Invites last a week.
    const lifetime = Date.parse(expiresAt) - before;
    expect(lifetime).toBeGreaterThan(7 * 24 * 3600 * 1000 - 60_000);
    expect(lifetime).toBeLessThanOrEqual(7 * 24 * 3600 * 1000 + 60_000);

    const events = await sessionEvents(sessionId);
    expect(typesOf(events)).toEqual(['SessionOpened', 'SessionMemberJoined', 'SessionMemberInvited']);
    expect(events[2]?.data).toEqual({ sessionId, inviteId, invitedBy: owner.user.id, expiresAt });
    const everything = JSON.stringify(await kiln.store.readAll({ maxCount: 100_000 }));
    expect(everything).toContain(inviteId);
    expect(everything).not.toContain(token);
    // Neither is it kept in the clear beside the event store: the invite table holds its SHA-256.
    const client = new pg.Client({ connectionString: testEnv().eventStoreUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ token_hash: Buffer; session_id: string }>(
        `select token_hash, session_id from ${kiln.schemas.commandSchema}.session_invites where invite_id = $1`,
        [inviteId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]?.session_id).toBe(sessionId);
      expect(rows[0]?.token_hash.equals(createHash('sha256').update(token).digest())).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('takes a POST without a body, as fetch sends it, but still refuses a body that is not JSON', async () => {
    // fetch sends `Content-Length: 0` and no Content-Type for a body-less POST; that is no media type to refuse.
    const owner = await kiln.signUp();
    const sessionId = await openSession(owner);
    const bodyless = await invite(owner, sessionId);
    expect(bodyless.status).toBe(201);
    const notJson = await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, {
      cookie: owner.cookie,
      headers: { 'content-type': 'text/plain' },
      raw: 'please',
    });
    expect(notJson.status).toBe(415);
    expect(notJson.body.error.code).toBe('unsupported_media_type');
    expect(
      typesOf(await sessionEvents(sessionId)).filter((type) => type === 'SessionMemberInvited'),
    ).toHaveLength(1);
  });

  it('gives a working token to an invite retried with the same Idempotency-Key header', async () => {
    // The invite route is not idempotent: a client (or its HTTP library) retrying it with the header it
    // sent the first time must still get an invite that exists, not a token for an invite never recorded.
    const owner = await kiln.signUp();
    const sessionId = await openSession(owner);
    const headers = { 'idempotency-key': `retry-${randomUUID()}` };
    const first = await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, {
      cookie: owner.cookie,
      headers,
    });
    const retry = await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, {
      cookie: owner.cookie,
      headers,
    });
    expect([first.status, retry.status]).toEqual([201, 201]);
    const invited = (await sessionEvents(sessionId)).filter((event) => event.type === 'SessionMemberInvited');
    expect(invited.map((event) => event.data['inviteId'])).toEqual([
      first.body.data.inviteId,
      retry.body.data.inviteId,
    ]);
    for (const token of [first.body.data.token, retry.body.data.token]) {
      const guest = await kiln.signUp();
      expect((await join(guest, token)).status).toBe(200);
    }
  });

  it('refuses an invite from someone who is not a member (403), and to a session that does not exist (404)', async () => {
    const owner = await kiln.signUp();
    const stranger = await kiln.signUp();
    const sessionId = await openSession(owner);
    const before = await sessionEvents(sessionId);
    const refused = await invite(stranger, sessionId);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ ok: false, error: { code: 'forbidden', retryable: false } });
    expect(await sessionEvents(sessionId)).toHaveLength(before.length);

    const nowhere = await invite(owner, 's_nosuchsession');
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.error.code).toBe('not_found');
    expect(await sessionEvents('s_nosuchsession')).toEqual([]);
  });
});

describe('POST /v1/sessions/join', () => {
  it('lets another user join with the token, once', async () => {
    const owner = await kiln.signUp();
    const guest = await kiln.signUp('guest');
    const sessionId = await openSession(owner);
    const { inviteId, token } = (await invite(owner, sessionId)).body.data;

    const joined = await join(guest, token);
    expect(joined.status).toBe(200);
    expect(joined.body).toEqual({ ok: true, data: { sessionId, position: expect.any(String) } });
    const events = await sessionEvents(sessionId);
    // Where the join landed, so a reader can wait for it (`?after=`).
    expect(joined.body.data.position).toBe(events[3]?.position);
    expect(typesOf(events)).toEqual([
      'SessionOpened',
      'SessionMemberJoined',
      'SessionMemberInvited',
      'SessionMemberJoined',
    ]);
    expect(events[3]?.data).toEqual({ sessionId, userId: guest.user.id, displayName: 'guest', inviteId });
    expect(events[3]?.metadata.actor).toEqual({ kind: 'user', id: guest.user.id });

    const before = await eventCount();
    const again = await join(guest, token);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ok: true, data: { sessionId, position: null } });
    expect(await eventCount()).toBe(before);
    expect(await sessionEvents(sessionId)).toHaveLength(4);
  });

  it('answers a token that names no invite with 404 in the error envelope', async () => {
    const guest = await kiln.signUp();
    const before = await eventCount();
    const answer = await join(guest, randomBytes(24).toString('base64url'));
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({
      ok: false,
      error: {
        code: 'not_found',
        message: expect.any(String),
        retryable: false,
        correlationId: answer.headers.get('x-correlation-id'),
      },
    });
    expect(await eventCount()).toBe(before);
    const tooShort = await join(guest, 'short');
    expect(tooShort.status).toBe(400);
    expect(tooShort.body.error.details).toEqual([expect.objectContaining({ path: 'body.token' })]);
  });

  it('refuses an expired invite with 403 and appends nothing', async () => {
    // The invite's expiry lives in its SessionMemberInvited event (the decider's knowledge) and in the
    // invite table; neither can be moved into the past over HTTP, so this test writes both, as an invite
    // made eight days ago would have left them.
    const owner = await kiln.signUp();
    const guest = await kiln.signUp();
    const sessionId = await openSession(owner);
    const inviteId = `i_${randomUUID().replaceAll('-', '')}`;
    const token = randomBytes(24).toString('base64url');
    const madeAt = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    const expiresAt = new Date(madeAt.getTime() + 7 * 24 * 3600 * 1000);
    await kiln.store.appendToStream(sessionStreamId(sessionId), [
      {
        id: newEventId(),
        type: 'SessionMemberInvited',
        data: { sessionId, inviteId, invitedBy: owner.user.id, expiresAt: expiresAt.toISOString() },
        metadata: {
          correlationId: 'expired-invite-test',
          causationId: null,
          actor: { kind: 'user', id: owner.user.id },
          at: madeAt.toISOString(),
        },
      },
    ]);
    const client = new pg.Client({ connectionString: testEnv().eventStoreUrl });
    await client.connect();
    try {
      await client.query(
        `insert into ${kiln.schemas.commandSchema}.session_invites (token_hash, session_id, invite_id, expires_at)
         values ($1, $2, $3, $4)`,
        [createHash('sha256').update(token).digest(), sessionId, inviteId, expiresAt],
      );
    } finally {
      await client.end();
    }
    const before = await sessionEvents(sessionId);
    const answer = await join(guest, token);
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('expired'),
    });
    expect(await sessionEvents(sessionId)).toHaveLength(before.length);
  });
});

describe('POST /v1/sessions/:sessionId/jobs', () => {
  it("adds a member's own job", async () => {
    const { member, sessionId } = await sessionWithTwoMembers();
    const jobId = await jobOf(member);
    const answer = await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, {
      cookie: member.cookie,
      body: { jobId },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ok: true, data: { sessionId, jobId, position: expect.any(String) } });
    const events = await sessionEvents(sessionId);
    expect(events.at(-1)).toMatchObject({
      type: 'SessionJobAdded',
      data: { sessionId, jobId, addedBy: member.user.id },
    });
    // Adding it again changes nothing.
    const before = await eventCount();
    const again = await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, {
      cookie: member.cookie,
      body: { jobId },
    });
    expect(again.status).toBe(200);
    expect(await eventCount()).toBe(before);
  });

  it("refuses a non-member's job (403) and someone else's job (404)", async () => {
    const { owner, member, sessionId } = await sessionWithTwoMembers();
    const stranger = await kiln.signUp();
    const strangersJob = await jobOf(stranger);
    const ownersJob = await jobOf(owner);
    const before = await sessionEvents(sessionId);

    const notMember = await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, {
      cookie: stranger.cookie,
      body: { jobId: strangersJob },
    });
    expect(notMember.status).toBe(403);
    expect(notMember.body.error.code).toBe('forbidden');

    const notTheirs = await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, {
      cookie: member.cookie,
      body: { jobId: ownersJob },
    });
    expect(notTheirs.status).toBe(404);
    expect(notTheirs.body.error.code).toBe('not_found');

    const noSuchJob = await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, {
      cookie: member.cookie,
      body: { jobId: 'j_nosuchjob' },
    });
    expect(noSuchJob.status).toBe(404);

    expect(await sessionEvents(sessionId)).toEqual(before);
    expect(typesOf(await kiln.store.readStream(jobStreamId(ownersJob)))).toEqual(['JobRequested']);
  });
});

describe('POST /v1/jobs with a sessionId', () => {
  it('adds the new job to a session the requester is a member of', async () => {
    const { member, sessionId } = await sessionWithTwoMembers();
    const jobId = await jobOf(member, { sessionId });
    const added = (await sessionEvents(sessionId)).filter((event) => event.type === 'SessionJobAdded');
    expect(added.map((event) => event.data)).toEqual([{ sessionId, jobId, addedBy: member.user.id }]);
    expect(typesOf(await kiln.store.readStream(jobStreamId(jobId)))).toEqual(['JobRequested']);
  });

  it('adds the jobs of two members who happen to use the same Idempotency-Key', async () => {
    // Keys are scoped per user: each member gets their own job, and both jobs join the session.
    const { owner, member, sessionId } = await sessionWithTwoMembers();
    await kiln.grant(owner.user.accountId, 10);
    await kiln.grant(member.user.accountId, 10);
    const key = `my-script-${randomUUID().slice(0, 8)}`;
    const jobIds: string[] = [];
    for (const person of [owner, member]) {
      const answer = await kiln.call('POST', '/v1/jobs', {
        cookie: person.cookie,
        headers: { 'idempotency-key': key },
        body: { ...imageRequest, sessionId },
      });
      expect(answer.status).toBe(202);
      jobIds.push(answer.body.data.jobId);
    }
    expect(new Set(jobIds).size).toBe(2);
    const added = (await sessionEvents(sessionId)).filter((event) => event.type === 'SessionJobAdded');
    expect(added.map((event) => event.data)).toEqual([
      { sessionId, jobId: jobIds[0], addedBy: owner.user.id },
      { sessionId, jobId: jobIds[1], addedBy: member.user.id },
    ]);
  });

  it('refuses a session the requester is not a member of with 403 and reserves nothing', async () => {
    const { sessionId } = await sessionWithTwoMembers();
    const stranger = await kiln.signUp();
    await kiln.grant(stranger.user.accountId, 10);
    const before = await sessionEvents(sessionId);
    const answer = await kiln.call('POST', '/v1/jobs', {
      cookie: stranger.cookie,
      headers: { 'idempotency-key': randomUUID() },
      body: { ...imageRequest, sessionId },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error.code).toBe('forbidden');
    expect(typesOf(await kiln.store.readStream(billingStreamId(stranger.user.accountId)))).toEqual([
      'BillingAccountOpened',
      'CreditsGranted',
    ]);
    const all = await kiln.store.readAll({ maxCount: 100_000 });
    expect(
      all.filter(
        (event) => event.type === 'CreditsReserved' && event.data['accountId'] === stranger.user.accountId,
      ),
    ).toEqual([]);
    expect(
      all.filter((event) => event.type === 'JobRequested' && event.data['userId'] === stranger.user.id),
    ).toEqual([]);
    expect(await sessionEvents(sessionId)).toEqual(before);

    const nowhere = await kiln.call('POST', '/v1/jobs', {
      cookie: stranger.cookie,
      headers: { 'idempotency-key': randomUUID() },
      body: { ...imageRequest, sessionId: 's_nosuchsession' },
    });
    expect(nowhere.status).toBe(404);
    expect(typesOf(await kiln.store.readStream(billingStreamId(stranger.user.accountId)))).toEqual([
      'BillingAccountOpened',
      'CreditsGranted',
    ]);
  });
});

describe('POST /v1/sessions/:sessionId/leave', () => {
  it('records the leaving once; leaving again answers 200 and appends nothing', async () => {
    const { member, sessionId } = await sessionWithTwoMembers();
    const left = await kiln.call('POST', `/v1/sessions/${sessionId}/leave`, { cookie: member.cookie });
    expect(left.status).toBe(200);
    expect(left.body).toEqual({ ok: true, data: { sessionId, position: expect.any(String) } });
    const events = await sessionEvents(sessionId);
    expect(events.at(-1)).toMatchObject({
      type: 'SessionMemberLeft',
      data: { sessionId, userId: member.user.id },
    });

    const before = await eventCount();
    const again = await kiln.call('POST', `/v1/sessions/${sessionId}/leave`, { cookie: member.cookie });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ok: true, data: { sessionId, position: null } });
    expect(await eventCount()).toBe(before);

    // Having left, they are no longer a member: no invites, no jobs.
    expect((await invite(member, sessionId)).status).toBe(403);
    const jobId = await jobOf(member);
    const add = await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, {
      cookie: member.cookie,
      body: { jobId },
    });
    expect(add.status).toBe(403);
    expect(await kiln.store.readStream(sessionStreamId(sessionId))).toHaveLength(events.length);
  });

  it('answers 404 for a session that does not exist', async () => {
    const someone = await kiln.signUp();
    const answer = await kiln.call('POST', '/v1/sessions/s_nosuchsession/leave', { cookie: someone.cookie });
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('not_found');
  });
});
