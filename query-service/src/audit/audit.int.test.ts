import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCommandHandler } from '@kiln/command-service/app/command-handler';
import { billingDecider, type BillingCommand } from '@kiln/command-service/domain/billing/decide';
import type { KilnEvent } from '@kiln/contracts/events';
import type { ReplayResult } from '@kiln/contracts/views';
import { billingStreamId } from '@kiln/contracts/streams';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import type { EventStore } from '@kiln/event-store/port';
import { createLogger } from '@kiln/service-kit/logger';
import { testEnv } from '@kiln/stack/testing';
import { auditAccount, auditAll, replayAccount } from '#src/audit/audit.ts';
import type { AsOf } from '#src/audit/billingFold.ts';
import { projectionLag, startProjectors, waitForProjections } from '#src/projector/projectors.ts';
import { createReadModels, type ReadModels } from '#src/readModels/collections.ts';

const urls = testEnv();
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const schema = `es_qaudit_${run}`;
const database = `kiln_qaudit_${run}`;
let store: EventStore<KilnEvent>;
let mongo: MongoClient;
let db: Db;
let readModels: ReadModels;

beforeAll(async () => {
  store = await createPostgresEventStore<KilnEvent>({ connectionString: urls.eventStoreUrl, schema });
  mongo = await new MongoClient(urls.mongoUrl).connect();
  db = mongo.db(database);
  readModels = createReadModels(db, { refreshMs: 0 });
  await readModels.ensureIndexes();
});

afterAll(async () => {
  await db.dropDatabase();
  await mongo.close();
  await store.close();
  const admin = new pg.Client({ connectionString: urls.eventStoreUrl });
  await admin.connect();
  await admin.query(`drop schema if exists ${schema} cascade`);
  await admin.end();
});

const ACCOUNTS = 16;
const COMMANDS = 3_000;

/** Thousands of billing commands at random, through the write side's own handler: refusals included. */
const randomBillingRun = async () => {
  const handle = createCommandHandler(store);
  const accounts = Array.from({ length: ACCOUNTS }, (_, index) => `acct_${run}_${index}`);
  const jobs = (accountId: string) => Array.from({ length: 12 }, (_, index) => `${accountId}_job_${index}`);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;
  const amount = () => 1 + Math.floor(Math.random() * 30);
  const commandFor = (accountId: string): BillingCommand => {
    const jobId = pick(jobs(accountId));
    const key = `k${Math.floor(Math.random() * 400)}`;
    switch (pick(['grant', 'purchase', 'adjust', 'reserve', 'reserve', 'capture', 'release', 'refund'])) {
      case 'grant':
        return {
          type: 'GrantCredits',
          data: {
            accountId,
            amount: amount(),
            reason: 'random grant',
            grantedBy: 'admin',
            idempotencyKey: key,
          },
        };
      case 'purchase':
        return { type: 'PurchaseCredits', data: { accountId, amount: amount(), paymentId: `pay_${key}` } };
      case 'adjust':
        return {
          type: 'AdjustCredits',
          data: {
            accountId,
            amount: amount() * (Math.random() < 0.5 ? -1 : 1),
            reason: 'random adjustment',
            adjustedBy: 'admin',
            idempotencyKey: `adj_${key}`,
          },
        };
      case 'reserve':
        return { type: 'ReserveCredits', data: { accountId, jobId, amount: amount(), maxActiveJobs: 5 } };
      case 'capture':
        return { type: 'CaptureCredits', data: { accountId, jobId } };
      case 'release':
        return { type: 'ReleaseCredits', data: { accountId, jobId, reason: 'random release' } };
      default:
        return {
          type: 'RefundCredits',
          data: { accountId, jobId, amount: amount(), reason: 'random refund', refundedBy: 'admin' },
        };
    }
  };
  const context = () => ({
    correlationId: `audit-${randomUUID()}`,
    causationId: null,
    actor: { kind: 'system' as const, id: 'audit-test' },
    now: new Date(),
  });
  for (const accountId of accounts) {
    await handle(
      billingDecider,
      billingStreamId(accountId),
      { type: 'OpenAccount', data: { accountId, ownerId: `owner_${accountId}` } },
      context(),
    );
  }
  let accepted = 0;
  let refused = 0;
  // Four writers at once, as several command-service instances would be.
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let index = 0; index < COMMANDS / 4; index += 1) {
        const accountId = pick(accounts);
        try {
          await handle(billingDecider, billingStreamId(accountId), commandFor(accountId), context());
          accepted += 1;
        } catch {
          refused += 1;
        }
      }
    }),
  );
  return { accounts, accepted, refused };
};

describe('billing audit and replay', () => {
  it(
    'finds the projection equal to a fresh fold of every account after thousands of random commands',
    { timeout: 240_000 },
    async () => {
      const logger = createLogger({ service: 'query-service', level: 'fatal' });
      const projectors = await startProjectors({ store, db, logger, batchSize: 200 });
      try {
        // The projectors follow while the commands are written.
        const { accounts, accepted, refused } = await randomBillingRun();
        expect(accepted + refused).toBe(COMMANDS);
        expect(accepted).toBeGreaterThan(COMMANDS / 4);
        expect(refused).toBeGreaterThan(0);
        const head = await store.headPosition();
        await waitForProjections(db, head!, 120_000);
        expect((await projectionLag(store, db)).every((lag) => lag.eventsBehind === 0)).toBe(true);

        const results = await auditAll(store, readModels);
        expect(results.map((result) => result.accountId).sort()).toEqual([...accounts].sort());
        expect(results.filter((result) => !result.matches)).toEqual([]);
        const ledger = await readModels.collection('ledger');
        expect(await ledger.countDocuments({})).toBe(await store.countAll());
      } finally {
        await projectors.stop();
      }
    },
  );

  it('reports the exact difference when the projection is wrong', async () => {
    const balances = await readModels.collection('balances');
    const [victim] = await balances.find({}).limit(1).toArray();
    expect(victim).toBeDefined();
    await balances.updateOne({ _id: victim!._id }, { $inc: { available: 7, reserved: -2 } });
    const result = await auditAccount(store, readModels, victim!._id);
    expect(result).toMatchObject({ matches: false, difference: { available: 7, reserved: -2 } });
    expect(result!.projected.available - result!.folded.available).toBe(7);
    await balances.updateOne({ _id: victim!._id }, { $inc: { available: -7, reserved: 2 } });
    expect((await auditAccount(store, readModels, victim!._id))?.matches).toBe(true);
  });

  it('replays an account as of every past position of its stream', async () => {
    const balances = await readModels.collection('balances');
    const [account] = await balances.find({}).sort({ _id: 1 }).limit(1).toArray();
    const events = await store.readStream(billingStreamId(account!._id));
    const ledger = await readModels.collection('ledger');
    for (const event of events.filter((_, index) => index % 5 === 0)) {
      const entry = await ledger.findOne({ _id: event.id });
      const replay = await replayAccount(store, readModels, account!._id, { position: event.position });
      // The ledger line of an event carries the balance right after it: the replay to its position agrees.
      expect(replay?.balance).toEqual({ available: entry?.availableAfter, reserved: entry?.reservedAfter });
      expect(replay?.ledger.at(-1)?.eventId).toBe(event.id);
    }
  });

  it('replays an account as of a past moment: up to the last event recorded at or before it', async () => {
    const balances = await readModels.collection('balances');
    const [account] = await balances.find({}).sort({ _id: 1 }).limit(1).toArray();
    const accountId = account!._id;
    const events = await store.readStream(billingStreamId(accountId));
    const times = events.map((event) => Date.parse(event.recordedAt));
    // An account's events are recorded one after another: their times never go back along the stream.
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The places where the next event came at least 2 ms later, so a whole millisecond lies between them.
    const gaps = times.flatMap((time, index) => (times[index + 1]! - time >= 2 ? [index] : []));
    expect(gaps.length).toBeGreaterThan(3);
    // Some in the middle of the stream, the first and the last.
    const middle = gaps.filter((index) => index > events.length / 4 && index < (events.length * 3) / 4);
    expect(middle.length).toBeGreaterThan(0);
    const chosen = [...new Set([gaps[0]!, ...middle.filter((_, n) => n % 7 === 0), gaps.at(-1)!])];

    const replay = (asOf: AsOf) => replayAccount(store, readModels, accountId, asOf);
    const sameAs = (found: ReplayResult | undefined, expected: ReplayResult | undefined) => {
      expect(found?.balance).toEqual(expected?.balance);
      expect(found?.ledger).toEqual(expected?.ledger);
    };
    for (const index of chosen) {
      const event = events[index]!;
      const next = events[index + 1]!;
      const atEvent = await replay({ position: event.position });
      const atNext = await replay({ position: next.position });
      const iso = (time: number) => new Date(time).toISOString();
      const between = iso(Math.floor((times[index]! + times[index + 1]!) / 2));
      expect(Date.parse(between)).toBeGreaterThan(times[index]!);
      expect(Date.parse(between)).toBeLessThan(times[index + 1]!);

      const byTime = await replay({ at: between });
      expect(byTime?.asOf).toEqual({ position: null, at: between });
      sameAs(byTime, atEvent);
      expect(byTime?.ledger.map((entry) => entry.eventId)).toEqual(
        events.slice(0, index + 1).map((e) => e.id),
      );
      // Not the next event's: it came after that moment.
      expect(atNext?.ledger).toHaveLength(index + 2);
      expect(byTime?.ledger).not.toEqual(atNext?.ledger);
      // The bounds: the event's own moment includes it, a millisecond before the next still leaves that
      // out, and the next one's moment takes it in (with any other event of that same millisecond).
      sameAs(await replay({ at: event.recordedAt }), atEvent);
      sameAs(await replay({ at: iso(times[index + 1]! - 1) }), atEvent);
      const lastOfNextMs = events[times.lastIndexOf(times[index + 1]!)]!;
      sameAs(await replay({ at: next.recordedAt }), await replay({ position: lastOfNextMs.position }));
    }
  });
});
