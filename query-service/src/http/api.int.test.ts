import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingStreamId } from '@kiln/contracts/streams';
import { AuditResult, Balance, JobView, LedgerEntry, ReplayResult } from '@kiln/contracts/views';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { startQueryService, type QueryServiceUnderTest } from '#src/testing/harness.ts';
import { finishJob } from '#src/testing/jobLifecycle.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas, { AFTER_WAIT_MS: '3000' });
});
afterAll(async () => {
  await query.stop();
  await kiln.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const imageOf = (prompt: string) =>
  ({ kind: 'image', modelId: 'kiln-local-image', prompt, width: 512, height: 512, count: 1 }) as const;
const videoOf = (prompt: string) =>
  ({
    kind: 'video',
    modelId: 'kiln-local-animation',
    prompt,
    width: 256,
    height: 256,
    durationSeconds: 2,
    fps: 12,
  }) as const;

const requestJob = async (
  cookie: string,
  prompt = 'a kiln at dawn',
  request: ReturnType<typeof imageOf | typeof videoOf> = imageOf(prompt),
) => {
  const answer = await kiln.call('POST', '/v1/jobs', {
    cookie,
    headers: { 'idempotency-key': randomUUID() },
    body: { request },
  });
  expect(answer.status).toBe(202);
  return answer.body.data as { jobId: string; position: string; cost: number };
};

describe('the query API over projections of the events', () => {
  it('reads your own write with ?after=, and shows a job to its owner only', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 20);
    const job = await requestJob(cookie);
    const mine = await query.get(`/v1/jobs?after=${job.position}`, cookie);
    expect(mine.status).toBe(200);
    expect(mine.body.data.items.map((item: JobView) => item.jobId)).toEqual([job.jobId]);
    expect(JobView.parse(mine.body.data.items[0])).toMatchObject({
      status: 'requested',
      cost: job.cost,
      userId: user.id,
    });

    const one = await query.get(`/v1/jobs/${job.jobId}`, cookie);
    expect(one.body.data.jobId).toBe(job.jobId);
    const stranger = await kiln.signUp();
    expect((await query.get(`/v1/jobs/${job.jobId}`, stranger.cookie)).status).toBe(404);
    expect((await query.get(`/v1/jobs/${job.jobId}`)).status).toBe(401);
  });

  it('shows a finished job with its artifacts', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 20);
    const job = await requestJob(cookie);
    const finished = await finishJob(kiln.store, job.jobId);
    const one = await query.get(`/v1/jobs/${job.jobId}?after=${finished.position}`, cookie);
    expect(one.status).toBe(200);
    expect(JobView.parse(one.body.data)).toMatchObject({
      status: 'completed',
      progress: 1,
      provider: 'local',
      logs: ['half way'],
      artifacts: finished.artifacts,
      position: finished.position,
    });
    expect(one.body.data.finishedAt).toEqual(expect.any(String));
  });

  it('pages my jobs with a cursor and filters them', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 50);
    const video = await requestJob(cookie, 'a kiln turning', videoOf('a kiln turning'));
    let last = '';
    for (let index = 0; index < 3; index += 1) last = (await requestJob(cookie, `job ${index}`)).position;
    const first = await query.get(`/v1/jobs?limit=2&kind=image&after=${last}`, cookie);
    expect(first.body.data.items).toHaveLength(2);
    expect(first.body.data.next).toEqual(expect.any(String));
    const second = await query.get(`/v1/jobs?limit=2&kind=image&cursor=${first.body.data.next}`, cookie);
    expect(second.body.data.items).toHaveLength(1);
    expect(second.body.data.next).toBeNull();
    const ids = [...first.body.data.items, ...second.body.data.items].map((item: JobView) => item.jobId);
    expect(new Set(ids).size).toBe(3);
    expect(ids).not.toContain(video.jobId);
    const videos = (await query.get('/v1/jobs?kind=video', cookie)).body.data.items as JobView[];
    expect(videos.map((job) => [job.jobId, job.kind])).toEqual([[video.jobId, 'video']]);
    expect((await query.get('/v1/jobs', cookie)).body.data.items).toHaveLength(4);
    expect((await query.get('/v1/jobs?kind=video&status=requested', cookie)).body.data.items).toHaveLength(1);
    expect((await query.get('/v1/jobs?status=completed', cookie)).body.data.items).toEqual([]);
    expect((await query.get('/v1/jobs?kind=audio', cookie)).status).toBe(400);
    expect((await query.get('/v1/jobs?cursor=not-a-cursor', cookie)).status).toBe(400);
    expect((await query.get('/v1/jobs?status=bogus', cookie)).status).toBe(400);
  });

  it('keeps the balance and a ledger in plain words, which the audit finds equal to a fresh fold', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 30);
    const job = await requestJob(cookie);
    const balance = await query.get(`/v1/accounts/me/balance?after=${job.position}`, cookie);
    expect(Balance.parse(balance.body.data)).toMatchObject({ available: 30 - job.cost, reserved: job.cost });

    const ledger = await query.get('/v1/accounts/me/ledger', cookie);
    const entries = ledger.body.data.items.map((entry: unknown) => LedgerEntry.parse(entry));
    expect(entries.map((entry: LedgerEntry) => entry.kind)).toEqual(['reserved', 'granted', 'opened']);
    expect(entries[0]).toMatchObject({
      jobId: job.jobId,
      availableAfter: 30 - job.cost,
      reservedAfter: job.cost,
    });
    expect(entries[0].description).toContain(String(job.cost));

    // The same ledger two entries a page: the second page goes on where the first stopped.
    const first = await query.get('/v1/accounts/me/ledger?limit=2', cookie);
    expect(first.body.data.items.map((entry: LedgerEntry) => entry.kind)).toEqual(['reserved', 'granted']);
    const second = await query.get(`/v1/accounts/me/ledger?limit=2&cursor=${first.body.data.next}`, cookie);
    expect(second.body.data.items.map((entry: LedgerEntry) => entry.kind)).toEqual(['opened']);
    expect(second.body.data.next).toBeNull();
    const byId = await query.get(
      `/v1/accounts/${user.accountId}/ledger?limit=2&cursor=${first.body.data.next}`,
      cookie,
    );
    expect(byId.body.data.items).toEqual(second.body.data.items);

    const audit = await query.get(`/v1/accounts/${user.accountId}/audit`, cookie);
    expect(AuditResult.parse(audit.body.data)).toMatchObject({
      matches: true,
      difference: { available: 0, reserved: 0 },
    });
    const stranger = await kiln.signUp();
    expect((await query.get(`/v1/accounts/${user.accountId}/audit`, stranger.cookie)).status).toBe(404);
  });

  it('replays an account as of a past position or time', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 25);
    // A pause, so that a moment lies clearly between the grant and the reservation.
    await sleep(30);
    const job = await requestJob(cookie);
    await query.get(`/v1/accounts/me/balance?after=${job.position}`, cookie);
    const ledger = (await query.get('/v1/accounts/me/ledger', cookie)).body.data.items as LedgerEntry[];
    const granted = ledger.find((entry) => entry.kind === 'granted');
    const reserved = ledger.find((entry) => entry.kind === 'reserved');
    if (!granted || !reserved) throw new Error('no grant or reservation in the ledger');

    const replay = async (params: string) => {
      const answer = await query.get(`/v1/accounts/${user.accountId}/replay?${params}`, cookie);
      expect(answer.status).toBe(200);
      return ReplayResult.parse(answer.body.data);
    };
    const atGrant = await replay(`position=${granted.position}`);
    expect(atGrant).toMatchObject({ balance: { available: 25, reserved: 0 } });
    expect(atGrant.ledger.map((entry) => entry.kind)).toEqual(['opened', 'granted']);
    const atReservation = await replay(`position=${reserved.position}`);
    expect(atReservation.balance).toEqual({ available: 25 - job.cost, reserved: job.cost });

    // The moments the event store recorded the grant and the reservation, and one between them.
    const recorded = await kiln.store.readStream(billingStreamId(user.accountId));
    const timeOf = (eventId: string) =>
      Date.parse(recorded.find((event) => event.id === eventId)!.recordedAt);
    const [grantedAt, reservedAt] = [timeOf(granted.eventId), timeOf(reserved.eventId)];
    expect(reservedAt - grantedAt).toBeGreaterThanOrEqual(2);
    const between = new Date(Math.floor((grantedAt + reservedAt) / 2)).toISOString();
    const asOf = async (at: number | string) =>
      replay(`at=${encodeURIComponent(typeof at === 'string' ? at : new Date(at).toISOString())}`);

    // As of that moment: the grant's balance and ledger exactly, not the reservation's.
    const byTime = await asOf(between);
    expect(byTime.asOf).toEqual({ position: null, at: between });
    expect(byTime.balance).toEqual(atGrant.balance);
    expect(byTime.ledger).toEqual(atGrant.ledger);
    expect(byTime.balance).not.toEqual(atReservation.balance);
    expect(byTime.ledger.map((entry) => entry.kind)).not.toContain('reserved');
    // The bounds: the grant's own moment and a millisecond before the reservation give the grant's; the
    // reservation's moment and now give the reservation's.
    for (const at of [grantedAt, reservedAt - 1]) {
      const found = await asOf(at);
      expect([found.balance, found.ledger]).toEqual([atGrant.balance, atGrant.ledger]);
    }
    for (const at of [reservedAt, new Date().toISOString()]) {
      const found = await asOf(at);
      expect([found.balance, found.ledger]).toEqual([atReservation.balance, atReservation.ledger]);
    }
    expect((await query.get(`/v1/accounts/${user.accountId}/replay`, cookie)).status).toBe(400);
  });

  it('answers 503 when the read models cannot reach ?after= in time, and 400 for a position that is not one', async () => {
    const { cookie } = await kiln.signUp();
    const future = await query.get('/v1/jobs?after=7fffffffffffffff-0000000000000000', cookie);
    expect(future.status).toBe(503);
    expect(future.headers.get('retry-after')).toBe('1');
    expect((await query.get('/v1/jobs?after=yesterday', cookie)).status).toBe(400);
  });
});
