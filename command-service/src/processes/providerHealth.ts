import { newEventId } from '@kiln/contracts/event-ids';
import type { EventMetadata } from '@kiln/contracts/envelope';
import type { KilnEvent } from '@kiln/contracts/events';
import { providerStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';
import type { Logger } from '@kiln/service-kit/logger';
import type { BreakerChange, BreakerState, LimitHit } from '#src/providers/resilient.ts';

/** A limit hit again within this long (or within the Retry-After of the last one) is the same hit. */
export const LIMIT_HIT_QUIET_MS = 10_000;

/**
 * Records a provider's health in its `provider-<name>` stream, where the read side builds provider
 * health from it: circuit-breaker transitions, and the limits it announced (429: rate, 402: quota).
 * Best effort: a change that cannot be recorded is logged, and the calls go on all the same.
 */
export const createProviderHealth = (store: EventStore<KilnEvent>, logger: Logger) => {
  const metadata = (provider: string): EventMetadata => ({
    correlationId: `provider-health-${provider}`,
    causationId: null,
    actor: { kind: 'system', id: 'provider-runner' },
    at: new Date().toISOString(),
  });
  const append = async (provider: string, event: KilnEvent): Promise<void> => {
    try {
      await store.appendToStream(providerStreamId(provider), [event]);
    } catch (error) {
      logger.error({ err: error, provider, type: event.type }, 'could not record a provider health change');
    }
  };

  const breakerChanged = (state: BreakerState, details: BreakerChange) => {
    const { provider } = details;
    const base = { id: newEventId(), metadata: metadata(provider) };
    return append(
      provider,
      state === 'opened'
        ? {
            ...base,
            type: 'ProviderBreakerOpened',
            data: {
              provider,
              consecutiveFailures: details.consecutiveFailures,
              halfOpenAfterMs: details.halfOpenAfterMs,
            },
          }
        : state === 'half-open'
          ? { ...base, type: 'ProviderBreakerHalfOpened', data: { provider } }
          : { ...base, type: 'ProviderBreakerClosed', data: { provider } },
    );
  };

  /** Until when each provider's limit counts as the one already recorded. */
  const quietUntil = new Map<string, number>();
  const limitHit = async (hit: LimitHit) => {
    const key = `${hit.provider}/${hit.limit}`;
    const now = Date.now();
    if ((quietUntil.get(key) ?? 0) > now) return;
    quietUntil.set(key, now + Math.max(LIMIT_HIT_QUIET_MS, hit.retryAfterMs ?? 0));
    await append(hit.provider, {
      id: newEventId(),
      type: 'ProviderLimitHit',
      data: {
        provider: hit.provider,
        limit: hit.limit,
        ...(hit.retryAfterMs === undefined ? {} : { retryAfterMs: Math.round(hit.retryAfterMs) }),
      },
      metadata: metadata(hit.provider),
    });
  };

  return { breakerChanged, limitHit };
};
