import type { ProviderHealth } from '@kiln/contracts/views';
import {
  nothing,
  type Applied,
  type DocRef,
  type ProjectedDoc,
  type Projection,
} from '#src/projections/projection.ts';

export type ProviderHealthDoc = Omit<ProviderHealth, 'position'> & { _id: string };

const providerRef = (provider: string): DocRef => ({ collection: 'provider_health', id: provider });
const providerTypes = new Set([
  'ProviderBreakerOpened',
  'ProviderBreakerHalfOpened',
  'ProviderBreakerClosed',
  'ProviderLimitHit',
]);

/** Each provider's circuit breaker and rate-limit hits, for admins. */
export const providerHealthProjection: Projection = {
  name: 'provider-health',
  collections: { provider_health: { kind: 'folded', indexes: [] } },
  touches: (event) =>
    providerTypes.has(event.type) ? [providerRef((event.data as { provider: string }).provider)] : [],
  apply: (event, current): Applied => {
    if (
      event.type !== 'ProviderBreakerOpened' &&
      event.type !== 'ProviderBreakerHalfOpened' &&
      event.type !== 'ProviderBreakerClosed' &&
      event.type !== 'ProviderLimitHit'
    )
      return nothing;
    const { provider } = event.data;
    const at = event.metadata.at;
    const stored = current(providerRef(provider)) as (ProjectedDoc & ProviderHealthDoc) | undefined;
    const health: ProviderHealthDoc = stored
      ? {
          _id: provider,
          provider,
          breaker: stored.breaker,
          changedAt: stored.changedAt,
          consecutiveFailures: stored.consecutiveFailures,
          limitHits: stored.limitHits,
          lastLimitHitAt: stored.lastLimitHitAt,
        }
      : {
          _id: provider,
          provider,
          breaker: 'closed',
          changedAt: at,
          consecutiveFailures: 0,
          limitHits: 0,
          lastLimitHitAt: null,
        };
    const next: ProviderHealthDoc =
      event.type === 'ProviderBreakerOpened'
        ? { ...health, breaker: 'open', changedAt: at, consecutiveFailures: event.data.consecutiveFailures }
        : event.type === 'ProviderBreakerHalfOpened'
          ? { ...health, breaker: 'half-open', changedAt: at }
          : event.type === 'ProviderBreakerClosed'
            ? { ...health, breaker: 'closed', changedAt: at, consecutiveFailures: 0 }
            : { ...health, limitHits: health.limitHits + 1, lastLimitHitAt: at };
    return { folded: [{ ref: providerRef(provider), doc: next }], appended: [] };
  },
};
