import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobView } from '@kiln/contracts/views';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { commandsOf } from '#src/testing/commands.ts';
import { startQueryService, type QueryServiceUnderTest } from '#src/testing/harness.ts';
import { MySessionsPage, type MySessionView } from '@kiln/contracts/views/session-list';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
let commands: ReturnType<typeof commandsOf>;
beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas, { AFTER_WAIT_MS: '5000' });
  commands = commandsOf(kiln);
});
afterAll(async () => {
  await query.stop();
  await kiln.stop();
});

const titlesOf = (page: { items: MySessionView[] }) => page.items.map((session) => session.title);

describe('sessions on the query API', () => {
  it('lists the sessions I am a member of, newest first, page by page', async () => {
    const alice = await kiln.signUp();
    const bob = await kiln.signUp();
    await commands.openSession(alice.cookie, 'first');
    await commands.openSession(alice.cookie, 'second');
    const bobs = await commands.openSession(bob.cookie, "bob's");
    await commands.join(bobs, bob.cookie, alice.cookie);
    await commands.openSession(alice.cookie, 'fourth');
    const left = await commands.openSession(bob.cookie, 'left behind');
    await commands.join(left, bob.cookie, alice.cookie);
    const { position: head } = await commands.leave(left, alice.cookie);

    const first = await query.get(`/v1/sessions?limit=3&after=${head}`, alice.cookie);
    expect(first.status).toBe(200);
    const page = MySessionsPage.parse(first.body.data);
    expect(titlesOf(page)).toEqual(['fourth', "bob's", 'second']);
    expect(page.items[1]).toMatchObject({ sessionId: bobs, ownerId: bob.user.id, memberCount: 2 });
    expect(page.next).toEqual(expect.any(String));
    const rest = MySessionsPage.parse(
      (await query.get(`/v1/sessions?limit=3&cursor=${page.next}`, alice.cookie)).body.data,
    );
    expect(titlesOf(rest)).toEqual(['first']);
    expect(rest.next).toBeNull();

    const bobsList = MySessionsPage.parse((await query.get('/v1/sessions', bob.cookie)).body.data);
    expect(titlesOf(bobsList)).toEqual(['left behind', "bob's"]);
    const stranger = await kiln.signUp();
    expect((await query.get('/v1/sessions', stranger.cookie)).body.data).toEqual({ items: [], next: null });
    expect((await query.get('/v1/sessions')).status).toBe(401);
    expect((await query.get('/v1/sessions?cursor=nonsense', alice.cookie)).status).toBe(400);
    expect((await query.get('/v1/sessions?limit=0', alice.cookie)).status).toBe(400);
  });

  it('shows a session with its jobs to members, and pages its members', async () => {
    const owner = await kiln.signUp();
    await kiln.grant(owner.user.accountId, 20);
    const sessionId = await commands.openSession(owner.cookie, 'moodboard');
    const job = await commands.requestJob(owner.cookie);
    await commands.addJob(sessionId, job.jobId, owner.cookie);
    const guest = await kiln.signUp();
    const head = await commands.join(sessionId, owner.cookie, guest.cookie);

    const session = await query.get(`/v1/sessions/${sessionId}?after=${head}`, guest.cookie);
    expect(session.status).toBe(200);
    expect(session.body.data).toMatchObject({ title: 'moodboard', memberCount: 2, jobIds: [job.jobId] });
    expect(session.body.data.jobs.map((item: JobView) => item.jobId)).toEqual([job.jobId]);
    // A member of the session sees its jobs.
    expect((await query.get(`/v1/jobs/${job.jobId}`, guest.cookie)).status).toBe(200);

    const page = await query.get(`/v1/sessions/${sessionId}/members?limit=1`, guest.cookie);
    expect(page.body.data.items).toHaveLength(1);
    const rest = await query.get(
      `/v1/sessions/${sessionId}/members?limit=1&cursor=${page.body.data.next}`,
      guest.cookie,
    );
    expect([page.body.data.items[0].userId, rest.body.data.items[0].userId].sort()).toEqual(
      [owner.user.id, guest.user.id].sort(),
    );
    const stranger = await kiln.signUp();
    expect((await query.get(`/v1/sessions/${sessionId}`, stranger.cookie)).status).toBe(404);
    expect((await query.get(`/v1/sessions/${sessionId}/members`, stranger.cookie)).status).toBe(404);
  });
});
