import { randomUUID } from 'node:crypto';
import { io } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent, PresenceMessage, StateMessage } from '@kiln/contracts/realtime';
import { jobStreamId } from '@kiln/contracts/streams';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import {
  mongoUrlWithDatabase,
  startQueryService,
  type QueryServiceUnderTest,
} from '@kiln/query-service/testing/harness';
import {
  subscribe,
  type RealtimeSubscription,
  type Refusal,
  type Status,
  type Transport,
} from '@kiln/realtime-client';
import {
  appendProgress,
  keepAppending,
  redisPrefixForTest,
  startHubProcess,
  type HubProcess,
} from '#src/testing/harness.ts';
import { startProxy } from '#src/testing/proxy.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
let hubA: HubProcess;
let hubB: HubProcess;
const open: RealtimeSubscription[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas);
  const redisPrefix = redisPrefixForTest();
  const hub = () =>
    startHubProcess({
      ...kiln.schemas,
      mongoUrl: mongoUrlWithDatabase(query.database),
      redisPrefix,
      env: { HEARTBEAT_SECONDS: '1', PRESENCE_TTL_SECONDS: '1' },
    });
  [hubA, hubB] = await Promise.all([hub(), hub()]);
});

afterEach(async () => {
  await Promise.all([hubA.ensureRunning(), hubB.ensureRunning()]);
});

afterAll(async () => {
  for (const subscription of open) subscription.close();
  await Promise.all([hubA.kill(), hubB.kill()]);
  await query.stop();
  await kiln.stop();
});

const until = async (
  what: string,
  done: () => boolean,
  timeoutMs = 20_000,
  seen: () => string = () => '',
) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} ${seen()}`.trim());
    await sleep(20);
  }
};

const newJob = async () => {
  const { cookie, user } = await kiln.signUp();
  await kiln.grant(user.accountId, 20);
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: {
      request: {
        kind: 'image',
        modelId: 'kiln-local-image',
        prompt: 'watched',
        width: 256,
        height: 256,
        count: 1,
      },
    },
  });
  expect(answer.status).toBe(202);
  return {
    cookie,
    user,
    jobId: answer.body.data.jobId as string,
    position: answer.body.data.position as string,
  };
};

const watch = (
  options: Omit<Parameters<typeof subscribe>[0], 'onEvent' | 'url'> & { url?: string | string[] },
) => {
  const received: DeliveredEvent[] = [];
  /** The transport each received event came over. */
  const receivedOver: Transport[] = [];
  const statuses: Status[] = [];
  /** The details given with statuses: why it reconnects, what it moves to. */
  const reasons: string[] = [];
  const states: StateMessage[] = [];
  const refusals: Refusal[] = [];
  const subscription = subscribe({
    url: [hubA.url, hubB.url],
    ...options,
    onEvent: (event) => {
      received.push(event);
      receivedOver.push(subscription.transport());
    },
    onStatus: (status, detail) => {
      statuses.push(status);
      if (detail) reasons.push(detail);
    },
    onState: (state) => states.push(state),
    onRefused: (refusal) => refusals.push(refusal),
  });
  open.push(subscription);
  return { subscription, received, receivedOver, statuses, reasons, states, refusals };
};

const hubOf = (subscription: RealtimeSubscription) => (subscription.url() === hubA.url ? hubA : hubB);

describe('watching a job over WebSocket', () => {
  it(
    'sees every event once, in order, across its own reconnects, a restart of its hub and the death of one of two',
    { timeout: 90_000 },
    async () => {
      const { cookie, jobId, position } = await newJob();
      const { subscription, received, statuses } = watch({
        topic: { kind: 'job', jobId },
        after: position,
        cookie,
        transports: ['websocket'],
      });
      await until('the subscription to go live', () => statuses.includes('live'));
      const appends = keepAppending(kiln.store, jobId, 20);
      const liveAgain = async (after: string) => {
        const seen = received.length;
        await until(`it to be live after ${after}`, () => received.length > seen + 3);
      };

      for (let drop = 0; drop < 3; drop += 1) {
        await appends.more(5 + Math.floor(Math.random() * 15));
        subscription.reconnect();
      }
      await liveAgain('its drops');
      // Its hub is restarted (drained, then back), while events keep coming.
      const restarted = hubOf(subscription);
      await restarted.stop();
      await restarted.start();
      await liveAgain('the restart');
      // The hub it is on now dies without a word while appends go on; it goes on with the other one.
      const dying = hubOf(subscription);
      await dying.kill();
      const appendedAtDeath = appends.appended();
      await appends.more(30);
      const total = await appends.stop();
      await until(
        `all ${total} events`,
        () => received.length >= total,
        30_000,
        () => `(received ${received.length}; statuses ${statuses.join(' → ')}; on ${subscription.url()})`,
      );
      expect(subscription.url()).not.toBe(dying.url);
      await dying.start();

      const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter(
        (event) => event.position > position,
      );
      expect(received.map((event) => event.id)).toEqual(stored.map((event) => event.id));
      expect(total - appendedAtDeath).toBeGreaterThanOrEqual(30);
      expect(statuses.filter((status) => status === 'reconnecting').length).toBeGreaterThanOrEqual(4);
    },
  );

  it('stays on WebSocket through a hub that is away for a while: SSE would not reach it either', async () => {
    const { cookie, jobId, position } = await newJob();
    const { subscription, received, statuses, reasons } = watch({
      url: hubA.url,
      topic: { kind: 'job', jobId },
      after: position,
      cookie,
    });
    await until('the subscription to go live', () => statuses.includes('live'));
    await appendProgress(kiln.store, jobId, 5, 0);
    await until('the first events', () => received.length === 5);
    await hubA.stop();
    // Long enough for several failed WebSocket connects (the client moves on after three).
    await until('three failed reconnects', () => reasons.length >= 3, 20_000);
    await sleep(1_500);
    await appendProgress(kiln.store, jobId, 5, 0);
    await hubA.start();
    await until('the events appended while it was away', () => received.length === 10, 30_000);

    expect(subscription.transport()).toBe('websocket');
    expect(reasons.some((reason) => reason.includes('Server-Sent Events'))).toBe(false);
    const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter(
      (event) => event.position > position,
    );
    expect(received.map((event) => event.id)).toEqual(stored.map((event) => event.id));
  });

  it('starts with the current state from the read models when it has no position, then live', async () => {
    const { cookie, jobId, position } = await newJob();
    await query.get(`/v1/jobs/${jobId}?after=${position}`, cookie);
    await appendProgress(kiln.store, jobId, 3, 0);
    const { received, states, statuses } = watch({ topic: { kind: 'job', jobId }, cookie });
    await until('the state', () => states.length === 1 && statuses.includes('live'));
    const job = states[0]?.state['job'] as { status: string; jobId: string } | null;
    expect(job).toMatchObject({ jobId });
    // What the read model had not folded yet comes as events after the state, never twice.
    await appendProgress(kiln.store, jobId, 4, 0);
    await until(
      'the progress',
      () => received.filter((event) => event.data['step'] === 'step 3').length === 1,
    );
    const all = await kiln.store.readStream(jobStreamId(jobId));
    const statePosition = states[0]?.position ?? '';
    expect(received.map((event) => event.id)).toEqual(
      all.filter((event) => event.position > statePosition).map((event) => event.id),
    );
  });
});

describe('watching a job over Server-Sent Events', () => {
  it('resumes by Last-Event-ID with the same guarantee', { timeout: 60_000 }, async () => {
    const { cookie, jobId, position } = await newJob();
    const { subscription, received, statuses } = watch({
      topic: { kind: 'job', jobId },
      after: position,
      cookie,
      transports: ['sse'],
      heartbeatSeconds: 1,
    });
    await until('the stream to go live', () => statuses.includes('live'));
    const appending = appendProgress(kiln.store, jobId, 100, 20);
    for (let drop = 0; drop < 3; drop += 1) {
      await sleep(200 + Math.floor(Math.random() * 300));
      subscription.reconnect();
    }
    const restarted = hubOf(subscription);
    await restarted.stop();
    await restarted.start();
    await appending;
    await until('all 100 events', () => received.length >= 100, 30_000);
    const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter(
      (event) => event.position > position,
    );
    expect(received.map((event) => event.id)).toEqual(stored.map((event) => event.id));
    expect(subscription.transport()).toBe('sse');
  });

  it('streams with the headers proxies need, ids that are positions, and heartbeats', async () => {
    const { cookie, jobId, position } = await newJob();
    await appendProgress(kiln.store, jobId, 2, 0);
    const controller = new AbortController();
    const response = await fetch(`${hubA.url}/v1/stream?topic=job&id=${jobId}`, {
      headers: { cookie, 'last-event-id': position },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('content-encoding')).toBeNull();
    const reader = response.body!.getReader();
    let text = '';
    const started = Date.now();
    while (!text.includes('event: heartbeat') && Date.now() - started < 5_000) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter(
      (event) => event.position > position,
    );
    expect([...text.matchAll(/^id: (.+)$/gm)].map((match) => match[1])).toEqual(
      stored.map((event) => event.position),
    );
    expect(text).toContain('event: resumed');
    expect(text).toContain('event: heartbeat');
  });

  it('refuses bad requests and strangers in the error envelope', async () => {
    const { jobId } = await newJob();
    const stranger = await kiln.signUp();
    const forbidden = await fetch(`${hubA.url}/v1/stream?topic=job&id=${jobId}`, {
      headers: { cookie: stranger.cookie },
    });
    expect(forbidden.status).toBe(403);
    expect(((await forbidden.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    expect((await fetch(`${hubA.url}/v1/stream?topic=job&id=${jobId}`)).status).toBe(401);
    const noId = await fetch(`${hubA.url}/v1/stream?topic=job`, { headers: { cookie: stranger.cookie } });
    expect(noId.status).toBe(400);
    const badPosition = await fetch(`${hubA.url}/v1/stream?topic=account`, {
      headers: { cookie: stranger.cookie, 'last-event-id': 'yesterday' },
    });
    expect(badPosition.status).toBe(400);
  });
});

describe('the realtime client', () => {
  it('falls back to Server-Sent Events where WebSockets do not get through, and resumes the same', async () => {
    const { cookie, jobId, position } = await newJob();
    const proxy = await startProxy(hubA.url, { websockets: false });
    try {
      const { subscription, received, statuses } = watch({
        url: proxy.url,
        topic: { kind: 'job', jobId },
        after: position,
        cookie,
        websocketAttempts: 2,
        heartbeatSeconds: 1,
      });
      await until('the stream to go live', () => statuses.includes('live'));
      expect(subscription.transport()).toBe('sse');
      await appendProgress(kiln.store, jobId, 20, 10);
      await until('20 events', () => received.length >= 20);
      const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter(
        (event) => event.position > position,
      );
      expect(received.map((event) => event.id)).toEqual(stored.map((event) => event.id));
      expect(proxy.upgrades()).toHaveLength(2); // websocketAttempts, then no more WebSocket
    } finally {
      await proxy.close();
    }
  });

  it(
    'moves to Server-Sent Events when WebSockets that worked stop getting through, and misses nothing',
    { timeout: 60_000 },
    async () => {
      const { cookie, jobId, position } = await newJob();
      const proxy = await startProxy(hubA.url);
      const appends = keepAppending(kiln.store, jobId, 20);
      try {
        const { subscription, received, receivedOver, statuses, reasons } = watch({
          url: proxy.url,
          topic: { kind: 'job', jobId },
          after: position,
          cookie,
          heartbeatSeconds: 1,
        });
        await until('10 events over WebSocket', () => received.length >= 10);
        expect(subscription.transport()).toBe('websocket');
        proxy.refuseWebSockets(); // mid-stream, appends going on
        await until('the move to SSE', () => subscription.transport() === 'sse');
        await appends.more(20);
        const total = await appends.stop();
        await until(
          `all ${total} events`,
          () => received.length >= total,
          30_000,
          () => `(received ${received.length}; statuses ${statuses.join(' → ')})`,
        );

        const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter(
          (event) => event.position > position,
        );
        expect(received.map((event) => event.id)).toEqual(stored.map((event) => event.id));
        const firstOverSse = receivedOver.indexOf('sse');
        expect(firstOverSse).toBeGreaterThanOrEqual(10);
        expect(receivedOver.slice(firstOverSse)).not.toContain('websocket');
        // The default of three failed reconnects in a row, then SSE, said through onStatus.
        expect(proxy.upgrades().map((upgrade) => upgrade.refused)).toEqual([false, true, true, true]);
        expect(reasons).toContain('WebSocket failed 3 times in a row: going on over Server-Sent Events');
        expect(statuses.slice(-2)).toEqual(['connecting', 'live']);
      } finally {
        await appends.stop();
        await proxy.close();
      }
    },
  );

  it('waits out a 429 from a proxy in front of the hub as Retry-After says, then streams', async () => {
    const { cookie, jobId, position } = await newJob();
    const proxy = await startProxy(hubA.url);
    proxy.answerNext(2, 429, { 'retry-after': '2' });
    try {
      const { received, statuses, reasons, refusals } = watch({
        url: proxy.url,
        topic: { kind: 'job', jobId },
        after: position,
        cookie,
        transports: ['sse'],
        heartbeatSeconds: 1,
      });
      await until('the stream to go live', () => statuses.includes('live'));
      await appendProgress(kiln.store, jobId, 10, 10);
      await until('10 events', () => received.length >= 10);

      const stored = (await kiln.store.readStream(jobStreamId(jobId))).filter(
        (event) => event.position > position,
      );
      expect(received.map((event) => event.id)).toEqual(stored.map((event) => event.id));
      expect(refusals).toEqual([]);
      expect(reasons.filter((reason) => reason === 'the stream was answered 429')).toHaveLength(2);
      const [first, second, third] = proxy.requests();
      expect([first?.status, second?.status, third?.status]).toEqual([429, 429, 200]);
      // Its own backoff would have asked again after 400 ms, then 800 ms.
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1_990);
      expect((third?.at ?? 0) - (second?.at ?? 0)).toBeGreaterThanOrEqual(1_990);
    } finally {
      await proxy.close();
    }
  });

  it('lets a program watch with an API token', async () => {
    const { cookie, user, jobId, position } = await newJob();
    const created = await kiln.call('POST', '/v1/accounts/tokens', {
      cookie,
      body: { name: 'watcher script' },
    });
    expect(created.status).toBe(201);
    const { received, statuses } = watch({
      topic: { kind: 'account' },
      after: '0000000000000000-0000000000000000',
      token: created.body.data.token as string,
      transports: ['websocket'],
    });
    await until('the reservation', () => received.some((event) => event.type === 'CreditsReserved'));
    expect(statuses).toContain('live');
    const reserved = received.find((event) => event.type === 'CreditsReserved');
    expect(reserved?.data).toMatchObject({ accountId: user.accountId, jobId });
    expect(reserved && reserved.position < position).toBe(true);
  });
});

describe('authorization over WebSocket', () => {
  it('refuses what is not yours, and says why', async () => {
    const owner = await newJob();
    const stranger = await kiln.signUp();
    const socket = io(hubA.url, { transports: ['websocket'], extraHeaders: { cookie: stranger.cookie } });
    const ask = (payload: unknown) =>
      new Promise<{ ok: boolean; error?: { code: string; message: string } }>((resolve) =>
        socket.emit('subscribe', payload, resolve),
      );
    try {
      expect(await ask({ subscriptionId: 'a', topic: { kind: 'job', jobId: owner.jobId } })).toMatchObject({
        ok: false,
        error: { code: 'forbidden', message: expect.stringContaining('neither yours') },
      });
      expect(
        await ask({ subscriptionId: 'b', topic: { kind: 'account', accountId: owner.user.accountId } }),
      ).toMatchObject({
        ok: false,
        error: { code: 'forbidden' },
      });
      expect(
        await ask({ subscriptionId: 'c', topic: { kind: 'job', jobId: 'j_nothing_here' } }),
      ).toMatchObject({
        ok: false,
        error: { code: 'not_found' },
      });
      expect(await ask({ subscriptionId: 'd', topic: { kind: 'account' } })).toMatchObject({ ok: true });
    } finally {
      socket.close();
    }
    const anonymous = io(hubA.url, { transports: ['websocket'], reconnection: false });
    const refused = await new Promise<Error>((resolve) => anonymous.once('connect_error', resolve));
    expect(refused.message).toMatch(/^unauthenticated/);
    anonymous.close();
  });

  it(
    'answers 10,000 malformed messages with error acks, and keeps serving',
    { timeout: 60_000 },
    async () => {
      const { cookie, jobId, position } = await newJob();
      const socket = io(hubB.url, { transports: ['websocket'], extraHeaders: { cookie } });
      const junk: unknown[] = [
        null,
        42,
        'subscribe',
        [],
        {},
        { subscriptionId: '' },
        { subscriptionId: 'x', topic: { kind: 'nope' } },
        { subscriptionId: 'x', topic: { kind: 'job', jobId: '../../etc/passwd' } },
        { subscriptionId: 'x', topic: { kind: 'job', jobId }, after: 'not-a-position' },
        { subscriptionId: 'x'.repeat(10_000), topic: { kind: 'account' } },
        { subscriptionId: 'x', topic: { kind: 'account' }, extra: true },
      ];
      try {
        let refusals = 0;
        for (let batch = 0; batch < 100; batch += 1) {
          const answers = await Promise.all(
            Array.from(
              { length: 100 },
              (_, index) =>
                new Promise<{ ok: boolean; error?: { code: string } }>((resolve) =>
                  socket.emit(
                    index % 2 === 0 ? 'subscribe' : 'no-such-message',
                    junk[(batch + index) % junk.length],
                    resolve,
                  ),
                ),
            ),
          );
          refusals += answers.filter(
            (answer) => !answer.ok && answer.error?.code === 'invalid_message',
          ).length;
        }
        expect(refusals).toBe(10_000);
        socket.emit('subscribe', { subscriptionId: 'no-ack', topic: null });
        socket.emit('unsubscribe');
        const good = await new Promise<{ ok: boolean }>((resolve) =>
          socket.emit(
            'subscribe',
            { subscriptionId: 'good', topic: { kind: 'job', jobId }, after: position },
            resolve,
          ),
        );
        expect(good.ok).toBe(true);
      } finally {
        socket.close();
      }
      expect((await fetch(`${hubB.url}/healthz`)).status).toBe(200);
    },
  );
});

describe('presence across hub instances', () => {
  it(
    'shows who is watching a session on every instance, and forgets a dead instance’s watchers',
    { timeout: 30_000 },
    async () => {
      const owner = await kiln.signUp('presence-owner');
      const opened = await kiln.call('POST', '/v1/sessions', {
        cookie: owner.cookie,
        body: { title: 'watch party' },
      });
      const sessionId = opened.body.data.sessionId as string;
      const invite = await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, { cookie: owner.cookie });
      const guest = await kiln.signUp('presence-guest');
      await kiln.call('POST', '/v1/sessions/join', {
        cookie: guest.cookie,
        body: { token: invite.body.data.token },
      });

      const seenByOwner: PresenceMessage[] = [];
      const ownerWatch = subscribe({
        url: hubA.url,
        topic: { kind: 'session', sessionId },
        cookie: owner.cookie,
        transports: ['websocket'],
        onEvent: () => undefined,
        onPresence: (presence) => seenByOwner.push(presence),
      });
      open.push(ownerWatch);
      const guestWatch = subscribe({
        url: hubB.url,
        topic: { kind: 'session', sessionId },
        cookie: guest.cookie,
        transports: ['websocket'],
        onEvent: () => undefined,
      });
      open.push(guestWatch);
      const watchersNow = () =>
        seenByOwner
          .at(-1)
          ?.watchers.map((watcher) => watcher.userId)
          .sort() ?? [];
      await until('both watchers', () => watchersNow().length === 2);
      expect(watchersNow()).toEqual([owner.user.id, guest.user.id].sort());

      // The guest's hub dies without a word: nobody says the guest left; the guest's entry expires.
      await hubB.kill();
      await until('the guest to be gone', () => watchersNow().length === 1, 10_000);
      expect(watchersNow()).toEqual([owner.user.id]);
      await hubB.start();
    },
  );
});
