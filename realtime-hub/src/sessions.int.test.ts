import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent, SubscribeAck, Topic } from '@kiln/contracts/realtime';
import { jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import {
  mongoUrlWithDatabase,
  startQueryService,
  type QueryServiceUnderTest,
} from '@kiln/query-service/testing/harness';
import {
  appendProgress,
  redisPrefixForTest,
  startHubProcess,
  type HubProcess,
} from '#src/testing/harness.ts';
import { rawSocketReader } from '#src/testing/rawReaders.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
let hub: HubProcess;
const readers: Array<{ close: () => void }> = [];
const FROM_THE_START = '0000000000000000-0000000000000000';

beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas);
  hub = await startHubProcess({
    ...kiln.schemas,
    mongoUrl: mongoUrlWithDatabase(query.database),
    redisPrefix: redisPrefixForTest(),
  });
});

afterEach(() => readers.splice(0).forEach((reader) => reader.close()));

afterAll(async () => {
  await hub.kill();
  await query.stop();
  await kiln.stop();
});

const until = async (what: string, done: () => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const ok = (answer: { status: number; body: unknown }) => {
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
  return answer.body as { data: Record<string, string> };
};

const requestJob = async (cookie: string) =>
  ok(
    await kiln.call('POST', '/v1/jobs', {
      cookie,
      headers: { 'idempotency-key': randomUUID() },
      body: {
        request: {
          kind: 'image',
          modelId: 'kiln-local-image',
          prompt: 'shared',
          width: 256,
          height: 256,
          count: 1,
        },
      },
    }),
  ).data.jobId!;

const invite = async (sessionId: string, by: string, guest: string) => {
  const { token } = ok(await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, { cookie: by })).data;
  ok(await kiln.call('POST', '/v1/sessions/join', { cookie: guest, body: { token } }));
};

/** An owner with credits, a session of theirs, and a guest who joined it by invite. */
const sharedSession = async () => {
  const owner = await kiln.signUp();
  await kiln.grant(owner.user.accountId, 50);
  const { sessionId } = ok(
    await kiln.call('POST', '/v1/sessions', { cookie: owner.cookie, body: { title: 'watch party' } }),
  ).data;
  const guest = await kiln.signUp();
  await invite(sessionId!, owner.cookie, guest.cookie);
  const addJob = async (jobId: string) =>
    ok(await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, { cookie: owner.cookie, body: { jobId } }));
  return { owner, guest, sessionId: sessionId!, addJob };
};

/**
 * Waits until every projector has folded a write's own position (read-your-writes on the query side); not
 * the head of `$all`, which lags while any transaction on the server is still open.
 */
const readModelsCaughtUp = async (jobId: string, cookie: string, position: string) => {
  expect((await query.get(`/v1/jobs/${jobId}?after=${position}`, cookie)).status).toBe(200);
};

/** What the design says a session topic holds, read from the store: its stream, and each job's events after it was added. */
const sessionTopic = async (sessionId: string) => {
  const own = await kiln.store.readStream(sessionStreamId(sessionId));
  const jobs = await Promise.all(
    own.flatMap((added) =>
      added.type === 'SessionJobAdded'
        ? [
            kiln.store
              .readStream(jobStreamId(added.data.jobId))
              .then((events) => events.filter((event) => event.position > added.position)),
          ]
        : [],
    ),
  );
  return [...own, ...jobs.flat()].sort((a, b) => (a.position < b.position ? -1 : 1));
};

const logsOf = (events: DeliveredEvent[], jobId: string) =>
  events
    .filter((event) => event.streamId === jobStreamId(jobId))
    .map((event) => event.data['log'] ?? event.type);

describe('watching a shared session', () => {
  it(
    'carries its own events and its jobs’ events from when each was added, a job added live too',
    { timeout: 60_000 },
    async () => {
      const { owner, guest, sessionId, addJob } = await sharedSession();
      const first = await requestJob(owner.cookie);
      await appendProgress(kiln.store, first, 2, 0, 'before it was added');
      await addJob(first);
      await appendProgress(kiln.store, first, 2, 0, 'in the session');
      const elsewhere = await requestJob(owner.cookie);
      await appendProgress(kiln.store, elsewhere, 2, 0, 'not in the session');

      const reader = rawSocketReader({
        urls: [hub.url],
        cookie: owner.cookie,
        topic: { kind: 'session', sessionId },
        after: FROM_THE_START,
      });
      readers.push(reader);
      const caughtUp = await sessionTopic(sessionId);
      await until('the catch-up', () => reader.arrivals.length >= caughtUp.length);
      expect(reader.events().map((event) => event.id)).toEqual(caughtUp.map((event) => event.id));
      expect(
        reader
          .events()
          .filter((event) => event.streamId === sessionStreamId(sessionId))
          .map((event) => event.type),
      ).toEqual([
        'SessionOpened',
        'SessionMemberJoined', // the owner
        'SessionMemberInvited',
        'SessionMemberJoined', // the guest
        'SessionJobAdded',
      ]);
      expect(logsOf(reader.events(), first)).toEqual(['in the session', 'in the session']);

      // Live: a second job is added, a newcomer joins, the guest leaves.
      const second = await requestJob(owner.cookie);
      await appendProgress(kiln.store, second, 1, 0, 'before it was added');
      await addJob(second);
      await appendProgress(kiln.store, second, 2, 0, 'in the session');
      await appendProgress(kiln.store, first, 1, 0, 'in the session, live');
      const newcomer = await kiln.signUp();
      await invite(sessionId, owner.cookie, newcomer.cookie);
      ok(await kiln.call('POST', `/v1/sessions/${sessionId}/leave`, { cookie: guest.cookie }));
      await appendProgress(kiln.store, elsewhere, 1, 0, 'not in the session');

      const all = await sessionTopic(sessionId);
      await until('the live events', () =>
        reader.arrivals.some((arrival) => arrival.event.id === all.at(-1)?.id),
      );
      expect(reader.events().map((event) => event.id)).toEqual(all.map((event) => event.id));
      const live = reader.events().slice(caughtUp.length);
      expect(
        live.filter((event) => event.streamId === sessionStreamId(sessionId)).map((event) => event.type),
      ).toEqual(['SessionJobAdded', 'SessionMemberInvited', 'SessionMemberJoined', 'SessionMemberLeft']);
      expect(logsOf(live, second)).toEqual(['in the session', 'in the session']);
      expect(logsOf(live, first)).toEqual(['in the session, live']);
      expect(logsOf(reader.events(), elsewhere)).toEqual([]);
      expect(reader.acks).toHaveLength(1);
    },
  );

  it(
    'without a position, starts with the session’s state from the read models, then live',
    { timeout: 60_000 },
    async () => {
      const { owner, guest, sessionId, addJob } = await sharedSession();
      const job = await requestJob(owner.cookie);
      await addJob(job);
      const folded = (await appendProgress(kiln.store, job, 2, 0, 'folded')) ?? null;
      await readModelsCaughtUp(job, owner.cookie, folded ?? '');

      const reader = rawSocketReader({
        urls: [hub.url],
        cookie: guest.cookie,
        topic: { kind: 'session', sessionId },
      });
      readers.push(reader);
      await until('the state', () => reader.states.length === 1);
      const { state } = reader.states[0]!;
      expect(state['session']).toMatchObject({ sessionId, title: 'watch party', jobIds: [job] });
      expect((state['members'] as Array<{ userId: string }>).map((member) => member.userId).sort()).toEqual(
        [owner.user.id, guest.user.id].sort(),
      );
      expect(state['jobs']).toEqual([expect.objectContaining({ jobId: job })]);
      expect(reader.acks[0]).toMatchObject({ ok: true, resumed: { mode: 'snapshot', events: 0 } });

      await appendProgress(kiln.store, job, 2, 0, 'live');
      ok(await kiln.call('POST', `/v1/sessions/${sessionId}/leave`, { cookie: guest.cookie }));
      const after = (await sessionTopic(sessionId)).filter(
        (event) => folded !== null && event.position > folded,
      );
      await until('the live events', () => reader.arrivals.length >= after.length);
      expect(reader.events().map((event) => event.id)).toEqual(after.map((event) => event.id));
      expect(reader.events().map((event) => event.data['log'] ?? event.type)).toEqual([
        'live',
        'live',
        'SessionMemberLeft',
      ]);
    },
  );
});

/** A plain socket of one user, asking for subscriptions and reading the acks. */
const askingAs = async (cookie: string) => {
  const socket = io(hub.url, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie } });
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  let next = 0;
  return {
    ask: (topic: Topic) =>
      socket.emitWithAck('subscribe', {
        subscriptionId: `s${(next += 1)}`,
        topic,
        after: FROM_THE_START,
      }) as Promise<SubscribeAck>,
    close: () => socket.close(),
  };
};

describe('who may watch a session and its jobs', () => {
  it('members may, strangers and former members may not, admins may', { timeout: 60_000 }, async () => {
    const { owner, guest, sessionId, addJob } = await sharedSession();
    const job = await requestJob(owner.cookie);
    const added = await addJob(job);
    await readModelsCaughtUp(job, owner.cookie, added.data['position'] ?? '');
    const session: Topic = { kind: 'session', sessionId };
    const sharedJob: Topic = { kind: 'job', jobId: job };

    const stranger = await askingAs((await kiln.signUp()).cookie);
    expect(await stranger.ask(session)).toMatchObject({
      ok: false,
      error: { code: 'forbidden', message: 'you are not a member of this session' },
    });
    expect(await stranger.ask(sharedJob)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await stranger.ask({ kind: 'session', sessionId: 's_no_such_session' })).toMatchObject({
      ok: false,
      error: { code: 'not_found' },
    });
    stranger.close();

    const member = await askingAs(guest.cookie);
    expect(await member.ask(session)).toMatchObject({ ok: true, channel: `session:${sessionId}` });
    // Not the guest's job, but in a session the guest is a member of.
    expect(await member.ask(sharedJob)).toMatchObject({
      ok: true,
      channel: `job:${job}`,
      resumed: { mode: 'replay' },
    });
    member.close();

    const left = ok(await kiln.call('POST', `/v1/sessions/${sessionId}/leave`, { cookie: guest.cookie }));
    await readModelsCaughtUp(job, owner.cookie, left.data['position'] ?? '');
    const former = await askingAs(guest.cookie);
    expect(await former.ask(session)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await former.ask(sharedJob)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    former.close();

    const admin = await askingAs((await kiln.admin()).cookie);
    expect(await admin.ask(session)).toMatchObject({ ok: true });
    expect(await admin.ask(sharedJob)).toMatchObject({ ok: true });
    expect(await admin.ask({ kind: 'account', accountId: owner.user.accountId })).toMatchObject({ ok: true });
    admin.close();

    const refused = await fetch(`${hub.url}/v1/stream?topic=session&id=${sessionId}`, {
      headers: { cookie: guest.cookie },
    });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('forbidden');
  });
});
