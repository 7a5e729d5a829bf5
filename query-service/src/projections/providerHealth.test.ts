import { describe, expect, it } from 'vitest';
import { providerHealthProjection } from '#src/projections/providerHealth.ts';
import { fold, recorded } from '#src/testing/recorded.ts';

const byProvider = (docs: ReturnType<typeof fold>['docs']) =>
  Object.fromEntries(docs.map(({ _id, position: _position, ...doc }) => [_id, doc]));

describe('the provider health projection', () => {
  it("follows each provider's breaker through open, half-open and closed, and counts its limit hits", () => {
    const opened = recorded('ProviderBreakerOpened', {
      provider: 'fal',
      consecutiveFailures: 5,
      halfOpenAfterMs: 30_000,
    });
    const halfOpened = recorded('ProviderBreakerHalfOpened', { provider: 'fal' });
    const limit = recorded('ProviderLimitHit', { provider: 'replicate', limit: 'rate', retryAfterMs: 1 });
    const closed = recorded('ProviderBreakerClosed', { provider: 'fal' });
    const quota = recorded('ProviderLimitHit', { provider: 'fal', limit: 'quota' });
    const { docs } = fold(providerHealthProjection, [opened, halfOpened, limit, closed, quota]);
    expect(byProvider(docs)).toEqual({
      fal: {
        provider: 'fal',
        breaker: 'closed',
        changedAt: closed.metadata.at,
        consecutiveFailures: 0,
        limitHits: 1,
        lastLimitHitAt: quota.metadata.at,
      },
      replicate: {
        provider: 'replicate',
        breaker: 'closed',
        changedAt: limit.metadata.at,
        consecutiveFailures: 0,
        limitHits: 1,
        lastLimitHitAt: limit.metadata.at,
      },
    });

    const open = byProvider(fold(providerHealthProjection, [opened, halfOpened]).docs)['fal'];
    expect(open).toMatchObject({
      breaker: 'half-open',
      consecutiveFailures: 5,
      changedAt: halfOpened.metadata.at,
    });
  });

  it('counts a limit hit delivered twice once, and ignores the events of other streams', () => {
    const hit = recorded('ProviderLimitHit', { provider: 'fal', limit: 'concurrency' });
    const { docs } = fold(providerHealthProjection, [hit, hit, recorded('JobCompleted', { jobId: 'j1' })]);
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ _id: 'fal', limitHits: 1, position: hit.position });
  });
});
