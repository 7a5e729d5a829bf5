import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '@kiln/contracts/envelope';
import type { KilnEvent } from '@kiln/contracts/events';
import { providerStreamId } from '@kiln/contracts/streams';
import { ProjectorLag, ProviderHealth } from '@kiln/contracts/views';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { createLogger } from '@kiln/service-kit/logger';
import { commandsOf } from '#src/testing/commands.ts';
import { startProjectors, waitForProjections } from '#src/projector/projectors.ts';
import { mongoUrlWithDatabase, startQueryService, type QueryServiceUnderTest } from '#src/testing/harness.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas, { AFTER_WAIT_MS: '5000' });
});
afterAll(async () => {
  await query.stop();
  await kiln.stop();
});

const system: Actor = { kind: 'system', id: 'breaker' };
const providerEvent = (type: string, data: Record<string, unknown>, at: string): KilnEvent =>
  ({
    id: randomUUID(),
    type,
    data,
    metadata: { correlationId: 'admin-test', causationId: null, actor: system, at },
  }) as unknown as KilnEvent;

/** The series of one metric in Prometheus' text format: their labels and values. */
const seriesOf = (metrics: string, name: string) =>
  metrics
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => {
      const [, labels = '', value = ''] = /^[^{]+\{([^}]*)\} (\S+)$/.exec(line) ?? [];
      const pairs = [...labels.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, text]) => [key, text]);
      return { labels: Object.fromEntries(pairs) as Record<string, string>, value: Number(value) };
    });

describe('the admin views', () => {
  it('gives admins the audit of every account', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const job = await commandsOf(kiln).requestJob(cookie);
    const admin = await kiln.admin();
    const all = await query.get(`/v1/admin/audit?after=${job.position}`, admin.cookie);
    expect(all.status).toBe(200);
    expect(all.body.data.mismatches).toBe(0);
    expect(all.body.data.results.map((result: { accountId: string }) => result.accountId)).toContain(
      user.accountId,
    );
    expect((await query.get('/v1/admin/audit', cookie)).status).toBe(403);
  });

  it("gives admins each provider's breaker and limit hits", async () => {
    const provider = `qa-${randomUUID().slice(0, 8)}`;
    const at = (second: number) => new Date(Date.UTC(2026, 5, 1, 12, 0, second)).toISOString();
    const appended = await kiln.store.appendToStream(providerStreamId(provider), [
      providerEvent('ProviderLimitHit', { provider, limit: 'rate', retryAfterMs: 1_000 }, at(1)),
      providerEvent(
        'ProviderBreakerOpened',
        { provider, consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
        at(2),
      ),
      providerEvent('ProviderBreakerHalfOpened', { provider }, at(3)),
      providerEvent('ProviderLimitHit', { provider, limit: 'quota' }, at(4)),
    ]);
    const admin = await kiln.admin();
    const answer = await query.get(`/v1/admin/providers?after=${appended.position}`, admin.cookie);
    expect(answer.status).toBe(200);
    const health = (answer.body.data as unknown[]).map((entry) => ProviderHealth.parse(entry));
    expect(health.find((entry) => entry.provider === provider)).toEqual({
      provider,
      breaker: 'half-open',
      changedAt: at(3),
      consecutiveFailures: 5,
      limitHits: 2,
      lastLimitHitAt: at(4),
      position: appended.position,
    });

    const closed = await kiln.store.appendToStream(providerStreamId(provider), [
      providerEvent('ProviderBreakerClosed', { provider }, at(5)),
    ]);
    const after = await query.get(`/v1/admin/providers?after=${closed.position}`, admin.cookie);
    expect(after.body.data.find((entry: ProviderHealth) => entry.provider === provider)).toMatchObject({
      breaker: 'closed',
      changedAt: at(5),
      consecutiveFailures: 0,
      limitHits: 2,
    });
    const user = await kiln.signUp();
    expect((await query.get('/v1/admin/providers', user.cookie)).status).toBe(403);
  });

  it("gives each projector's position and lag, on the API for admins and at /metrics", async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const job = await commandsOf(kiln).requestJob(cookie);
    const admin = await kiln.admin();
    const lag = await query.get(`/v1/projections?after=${job.position}`, admin.cookie);
    const lags = (lag.body.data as unknown[]).map((entry) => ProjectorLag.parse(entry));
    expect(lags.map((entry) => entry.projector).sort()).toEqual([
      'jobs',
      'ledger',
      'provider-health',
      'sessions',
    ]);
    const head = await kiln.store.headPosition();
    for (const entry of lags) expect(entry).toMatchObject({ position: head, head, eventsBehind: 0 });

    const metrics = await (await fetch(`${query.url}/metrics`)).text();
    for (const { projector } of lags) {
      const ofProjector = (name: string) =>
        seriesOf(metrics, name).filter((series) => series.labels['projector'] === projector);
      expect(ofProjector('kiln_projector_position_info')).toEqual([
        { labels: expect.objectContaining({ projector, position: head }), value: 1 },
      ]);
      expect(ofProjector('kiln_projector_events_behind')).toEqual([
        { labels: expect.objectContaining({ projector }), value: 0 },
      ]);
    }
    expect((await query.get('/v1/projections', cookie)).status).toBe(403);
  });

  it('shows a lag while the projectors are behind the head, and 0 once they have caught up', async () => {
    const admin = await kiln.admin();
    const { user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    // A reader that does not project, over read models of its own that nothing has projected into yet.
    const reader = await startQueryService(kiln.schemas, { PROJECTORS: 'false' });
    const mongo = await new MongoClient(mongoUrlWithDatabase(reader.database)).connect();
    const db = mongo.db(reader.database);
    const logger = createLogger({ service: 'query-service', level: 'fatal' });
    const seen = async () => {
      const answer = await reader.get('/v1/projections', admin.cookie);
      expect(answer.status).toBe(200);
      const lags = (answer.body.data as unknown[]).map((entry) => ProjectorLag.parse(entry));
      expect(lags).toHaveLength(4);
      const metrics = await (await fetch(`${reader.url}/metrics`)).text();
      const ofProjector = (name: string, projector: string) =>
        seriesOf(metrics, name).filter((series) => series.labels['projector'] === projector);
      return lags.map((lag) => ({
        ...lag,
        metricBehind: ofProjector('kiln_projector_events_behind', lag.projector).map(
          (series) => series.value,
        ),
        metricPosition: ofProjector('kiln_projector_position_info', lag.projector).map(
          (series) => series.labels['position'],
        ),
      }));
    };
    try {
      // Before any projector has run: every event of $all is behind.
      const total = await kiln.store.countAll();
      const head = await kiln.store.headPosition();
      expect(total).toBeGreaterThan(0);
      for (const lag of await seen())
        expect(lag).toMatchObject({
          position: null,
          head,
          eventsBehind: total,
          caughtUp: false,
          metricBehind: [total],
          metricPosition: ['none'],
        });

      // Projected up to the head, then stopped: three more events are three behind.
      let projectors = await startProjectors({ store: kiln.store, db, logger, batchSize: 50 });
      try {
        await waitForProjections(db, head!, 30_000);
      } finally {
        await projectors.stop();
      }
      const provider = `qa-lag-${randomUUID().slice(0, 8)}`;
      const at = new Date().toISOString();
      const appended = await kiln.store.appendToStream(providerStreamId(provider), [
        providerEvent('ProviderLimitHit', { provider, limit: 'rate', retryAfterMs: 1_000 }, at),
        providerEvent('ProviderLimitHit', { provider, limit: 'rate', retryAfterMs: 1_000 }, at),
        providerEvent('ProviderLimitHit', { provider, limit: 'quota' }, at),
      ]);
      const newHead = await kiln.store.headPosition();
      expect(newHead).toBe(appended.position);
      for (const lag of await seen())
        expect(lag).toMatchObject({
          position: head,
          head: newHead,
          eventsBehind: 3,
          caughtUp: false,
          metricBehind: [3],
          metricPosition: [head],
        });

      // Started again, they catch up and the lag falls to 0 at both places.
      projectors = await startProjectors({ store: kiln.store, db, logger, batchSize: 50 });
      try {
        await waitForProjections(db, newHead!, 30_000);
      } finally {
        await projectors.stop();
      }
      for (const lag of await seen())
        expect(lag).toMatchObject({
          position: newHead,
          head: newHead,
          eventsBehind: 0,
          caughtUp: true,
          metricBehind: [0],
          metricPosition: [newHead],
        });
    } finally {
      await mongo.close();
      await reader.stop();
    }
  });
});
