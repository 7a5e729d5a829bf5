import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { JobView } from '@kiln/contracts/views';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { commandsOf } from '#src/testing/commands.ts';
import { startQueryService, type QueryServiceUnderTest } from '#src/testing/harness.ts';
import { finishJob } from '#src/testing/jobLifecycle.ts';
import { JobTimelinePage, SessionTimelinePage } from '@kiln/contracts/views/timeline';

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

/** A session with a job added before it ran, a job of the owner's never added, and a guest's job. */
const sessionWithJobs = async () => {
  const owner = await kiln.signUp();
  const guest = await kiln.signUp();
  await kiln.grant(owner.user.accountId, 30);
  await kiln.grant(guest.user.accountId, 30);
  const sessionId = await commands.openSession(owner.cookie, 'studio');
  const added = await commands.requestJob(owner.cookie, 'added, then run');
  await commands.addJob(sessionId, added.jobId, owner.cookie);
  const finished = await finishJob(kiln.store, added.jobId);
  const kept = await commands.requestJob(owner.cookie, 'never added');
  await commands.join(sessionId, owner.cookie, guest.cookie);
  const guests = await commands.requestJob(guest.cookie, "the guest's");
  // The last write: reads wait for it (the head of `$all` lags while other transactions run).
  const { position: head } = await commands.addJob(sessionId, guests.jobId, guest.cookie);
  return { owner, guest, sessionId, added, finished, kept, guests, head };
};

/** Every page of a timeline, following `next`. */
const allPages = async <Page extends { next: string | null }>(
  path: string,
  cookie: string,
  limit: number,
  schema: z.ZodType<Page>,
) => {
  const pages: Page[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const answer = await query.get(`${path}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, cookie);
    expect(answer.status).toBe(200);
    const page = schema.parse(answer.body.data);
    pages.push(page);
    cursor = page.next;
  }
  return pages;
};

describe('timelines', () => {
  it('gives every event of a job with the job after it, page by page, to those who see the job', async () => {
    const { owner, guest, added, finished, kept, head } = await sessionWithJobs();
    const path = `/v1/jobs/${added.jobId}/timeline`;
    const whole = JobTimelinePage.parse(
      (await query.get(`${path}?limit=50&after=${head}`, owner.cookie)).body.data,
    );
    expect(whole).toMatchObject({ total: 7, next: null, truncated: false });
    expect(whole.items.map(({ event }) => event.type)).toEqual(['JobRequested', ...finished.types]);
    expect(whole.items.map(({ state }) => state?.status)).toEqual([
      'requested',
      'submitted',
      'running',
      'running',
      'succeeded',
      'artifacts_stored',
      'completed',
    ]);
    expect(whole.items.map(({ state }) => state?.position)).toEqual(
      whole.items.map(({ event }) => event.position),
    );
    // The last state is the read model's job, but for the sessions it was added to (in their streams).
    const job = (await query.get(`/v1/jobs/${added.jobId}`, owner.cookie)).body.data;
    expect(whole.items.at(-1)?.state).toEqual({ ...job, sessionIds: [] });

    const pages = await allPages(path, guest.cookie, 3, JobTimelinePage);
    expect(pages.map((page) => page.items.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((page) => page.items)).toEqual(whole.items);

    const stranger = await kiln.signUp();
    expect((await query.get(path, stranger.cookie)).status).toBe(404);
    expect((await query.get(`/v1/jobs/${kept.jobId}/timeline`, guest.cookie)).status).toBe(404);
    expect((await query.get(path, (await kiln.admin()).cookie)).status).toBe(200);
    expect((await query.get(`${path}?limit=51`, owner.cookie)).status).toBe(400);
    expect((await query.get(`${path}?cursor=forged`, owner.cookie)).status).toBe(400);
  });

  it("gives a session's events and its jobs' from when each was added, with the session after each", async () => {
    const { owner, guest, sessionId, added, kept, guests, head } = await sessionWithJobs();
    const path = `/v1/sessions/${sessionId}/timeline`;
    const first = await query.get(`${path}?limit=50&after=${head}`, guest.cookie);
    expect(first.status).toBe(200);
    const whole = SessionTimelinePage.parse(first.body.data);
    const positions = whole.items.map(({ event }) => event.position);
    expect(positions).toEqual([...positions].sort());
    expect(new Set(whole.items.map(({ event }) => event.streamId))).toEqual(
      new Set([`session-${sessionId}`, `job-${added.jobId}`]),
    );
    const addedAt = whole.items.find(
      ({ event }) => event.type === 'SessionJobAdded' && event.data['jobId'] === added.jobId,
    )?.event.position as string;
    const jobEntries = whole.items.filter(({ event }) => event.streamId === `job-${added.jobId}`);
    expect(jobEntries.map(({ event }) => event.type)).toEqual([
      'JobProviderSubmitted',
      'JobProgressed',
      'JobProgressed',
      'JobSucceeded',
      'JobArtifactsStored',
      'JobCompleted',
    ]);
    expect(jobEntries.every(({ event }) => event.position > addedAt)).toBe(true);
    // Added before it ran: it enters the state as requested, and is completed by the end.
    expect(
      whole.items.find(({ event }) => event.position === addedAt)?.state.jobs.map((job) => job.status),
    ).toEqual(['requested']);

    const session = (await query.get(`/v1/sessions/${sessionId}`, guest.cookie)).body.data;
    const { jobs: _jobs, ...sessionView } = session;
    const last = whole.items.at(-1)?.state;
    expect(last?.session).toEqual(sessionView);
    const readModel = async (jobId: string) =>
      JobView.parse((await query.get(`/v1/jobs/${jobId}`, owner.cookie)).body.data);
    expect(last?.jobs).toEqual([await readModel(added.jobId), await readModel(guests.jobId)]);
    expect(last?.jobs.map((job) => job.jobId)).not.toContain(kept.jobId);

    const pages = await allPages(path, owner.cookie, 4, SessionTimelinePage);
    expect(pages.flatMap((page) => page.items)).toEqual(whole.items);
    expect(pages.every((page) => page.total === whole.total)).toBe(true);
    const stranger = await kiln.signUp();
    expect((await query.get(path, stranger.cookie)).status).toBe(404);
    expect((await query.get('/v1/sessions/s_no_such_session/timeline', owner.cookie)).status).toBe(404);
    expect((await query.get(path, (await kiln.admin()).cookie)).status).toBe(200);
  });
});
