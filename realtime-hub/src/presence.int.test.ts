import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import {
  mongoUrlWithDatabase,
  startQueryService,
  type QueryServiceUnderTest,
} from '@kiln/query-service/testing/harness';
import { redisPrefixForTest, startHubProcess, type HubProcess } from '#src/testing/harness.ts';
import { rawSocketReader } from '#src/testing/rawReaders.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
let hubA: HubProcess;
let hubB: HubProcess;
const readers: Array<{ close: () => void }> = [];

/**
 * Presence is renewed (and looked at again) every third of its TTL: at 300 s, nothing here can come from
 * a renewal. What a watcher on one instance learns of a watcher on the other comes through the Socket.IO
 * room, across instances by the Redis adapter, at the join or leave itself.
 */
beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas);
  const redisPrefix = redisPrefixForTest();
  const hub = () =>
    startHubProcess({
      ...kiln.schemas,
      mongoUrl: mongoUrlWithDatabase(query.database),
      redisPrefix,
      env: { PRESENCE_TTL_SECONDS: '300' },
    });
  [hubA, hubB] = await Promise.all([hub(), hub()]);
});

afterEach(() => readers.splice(0).forEach((reader) => reader.close()));

afterAll(async () => {
  await Promise.all([hubA.kill(), hubB.kill()]);
  await query.stop();
  await kiln.stop();
});

const until = async (what: string, done: () => boolean, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const sharedSession = async () => {
  const owner = await kiln.signUp();
  const opened = await kiln.call('POST', '/v1/sessions', {
    cookie: owner.cookie,
    body: { title: 'watch party' },
  });
  const sessionId = opened.body.data.sessionId as string;
  const invite = await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, { cookie: owner.cookie });
  const guest = await kiln.signUp();
  await kiln.call('POST', '/v1/sessions/join', {
    cookie: guest.cookie,
    body: { token: invite.body.data.token },
  });
  return { owner, guest, sessionId };
};

const watching = (cookie: string, url: string, sessionId: string) => {
  const reader = rawSocketReader({ urls: [url], cookie, topic: { kind: 'session', sessionId } });
  readers.push(reader);
  return {
    ...reader,
    /** The user ids of the last presence message it got. */
    watchers: () =>
      reader.presences
        .at(-1)
        ?.watchers.map((watcher) => watcher.userId)
        .sort() ?? [],
  };
};

describe('presence, through the room of a session on every instance', () => {
  it('reaches a watcher on one instance when someone starts watching on the other', async () => {
    const { owner, guest, sessionId } = await sharedSession();
    const ownerOnA = watching(owner.cookie, hubA.url, sessionId);
    // Told at once as it subscribes, then by its room once hub A has looked: hub A has nothing more to say.
    await until('hub A to tell its room of the owner', () => ownerOnA.presences.length === 2);
    expect(ownerOnA.watchers()).toEqual([owner.user.id]);
    const guestOnB = watching(guest.cookie, hubB.url, sessionId);
    await until('the guest on hub B to be seen on hub A', () => ownerOnA.watchers().length === 2);
    expect(ownerOnA.watchers()).toEqual([owner.user.id, guest.user.id].sort());
    await until('the guest to see both', () => guestOnB.watchers().length === 2);
  });

  it('tells every instance at once when a watcher unsubscribes, and when it disconnects', async () => {
    const { owner, guest, sessionId } = await sharedSession();
    const ownerOnA = watching(owner.cookie, hubA.url, sessionId);
    const guestOnB = watching(guest.cookie, hubB.url, sessionId);
    await until('both watchers', () => ownerOnA.watchers().length === 2);

    const answer = (await guestOnB.socket()?.emitWithAck('unsubscribe', { subscriptionId: 'raw' })) as {
      ok: boolean;
    };
    expect(answer.ok).toBe(true);
    await until('the guest to leave on unsubscribe', () => ownerOnA.watchers().length === 1);
    expect(ownerOnA.watchers()).toEqual([owner.user.id]);

    const again = await guestOnB.socket()?.emitWithAck('subscribe', {
      subscriptionId: 'raw',
      topic: { kind: 'session', sessionId },
    });
    expect(again).toMatchObject({ ok: true });
    await until('the guest to be back', () => ownerOnA.watchers().length === 2);

    guestOnB.close();
    await until('the guest to leave on disconnect', () => ownerOnA.watchers().length === 1);
    expect(ownerOnA.watchers()).toEqual([owner.user.id]);
  });
});
