import { z } from 'zod';
import { defineEvent } from '#src/envelope.ts';

export const ProviderName = z
  .string()
  .min(1)
  .max(50)
  .regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and - only');

export const ProviderBreakerOpened = defineEvent(
  'ProviderBreakerOpened',
  z.strictObject({
    provider: ProviderName,
    consecutiveFailures: z.int().nonnegative(),
    halfOpenAfterMs: z.int().positive(),
  }),
);

export const ProviderBreakerHalfOpened = defineEvent(
  'ProviderBreakerHalfOpened',
  z.strictObject({ provider: ProviderName }),
);

export const ProviderBreakerClosed = defineEvent(
  'ProviderBreakerClosed',
  z.strictObject({ provider: ProviderName }),
);

export const ProviderLimitHit = defineEvent(
  'ProviderLimitHit',
  z.strictObject({
    provider: ProviderName,
    limit: z.enum(['rate', 'quota', 'concurrency']),
    retryAfterMs: z.int().nonnegative().optional(),
  }),
);

export const ProviderEvent = z.discriminatedUnion('type', [
  ProviderBreakerOpened,
  ProviderBreakerHalfOpened,
  ProviderBreakerClosed,
  ProviderLimitHit,
]);
export type ProviderEvent = z.infer<typeof ProviderEvent>;
