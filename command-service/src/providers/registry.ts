import type { CatalogModel } from '@kiln/contracts/catalog';
import { createFalAdapter, type FalAdapterOptions } from '#src/providers/fal/adapter.ts';
import { createLocalAdapter, type LocalAdapterOptions } from '#src/providers/local/adapter.ts';
import { originOf, withCheckedOutputLinks } from '#src/providers/outputLinks.ts';
import type { ProviderAdapter } from '#src/providers/port.ts';
import { createReplicateAdapter, type ReplicateAdapterOptions } from '#src/providers/replicate/adapter.ts';
import {
  DEFAULT_RESILIENCE,
  makeResilient,
  type BreakerChange,
  type BreakerState,
  type LimitHit,
  type ResilienceOptions,
} from '#src/providers/resilient.ts';

/** Which providers this deployment can call, and how. A provider left out serves no model here. */
export type ProvidersConfig = {
  local?: LocalAdapterOptions;
  replicate?: ReplicateAdapterOptions;
  fal?: FalAdapterOptions;
  /** Timeouts, retries and breaker settings for every provider (defaults: DEFAULT_RESILIENCE). */
  resilience?: Partial<Omit<ResilienceOptions, 'onBreakerChange' | 'onLimitHit' | 'onRetry'>>;
  /** Each provider's breaker transitions, for its `provider-<name>` stream. */
  onBreakerChange?: (state: BreakerState, details: BreakerChange) => void | Promise<void>;
  /** Each limit a provider announced (429, 402), for its `provider-<name>` stream. */
  onLimitHit?: (hit: LimitHit) => void | Promise<void>;
  onRetry?: ResilienceOptions['onRetry'];
};

export type ProviderRegistry = {
  /** The adapter of the model's provider (by the catalog's `provider`), if one is configured. */
  adapterFor(model: CatalogModel): ProviderAdapter | undefined;
  /** The same, under the name the job worker asks with. */
  forModel(model: CatalogModel): ProviderAdapter | undefined;
  /** By provider name, for webhooks (`/v1/webhooks/providers/:name`). */
  byName(name: string): ProviderAdapter | undefined;
  readonly names: readonly string[];
};

/** A registry over adapters already made, by name. */
export const createProviderRegistry = (
  adapters: Readonly<Record<string, ProviderAdapter>>,
): ProviderRegistry => {
  const byName = (name: string) => (Object.hasOwn(adapters, name) ? adapters[name] : undefined);
  const adapterFor = (model: CatalogModel) => byName(model.provider);
  return { adapterFor, forModel: adapterFor, byName, names: Object.keys(adapters) };
};

const secretsOf = (values: ReadonlyArray<string | undefined>) =>
  values.filter((value): value is string => !!value);

/**
 * Every configured provider's adapter, its output links held to outputLinks.ts's rules (its configured
 * origin trusted), each wrapped once for resilience (one breaker per provider).
 */
export const buildProviderRegistry = (config: ProvidersConfig): ProviderRegistry => {
  const resilience: ResilienceOptions = {
    ...DEFAULT_RESILIENCE,
    ...config.resilience,
    breaker: { ...DEFAULT_RESILIENCE.breaker, ...config.resilience?.breaker },
    ...(config.onBreakerChange ? { onBreakerChange: config.onBreakerChange } : {}),
    ...(config.onLimitHit ? { onLimitHit: config.onLimitHit } : {}),
    ...(config.onRetry ? { onRetry: config.onRetry } : {}),
  };
  const { local, replicate, fal } = config;
  const raw: ProviderAdapter[] = [
    ...(local
      ? [
          withCheckedOutputLinks(createLocalAdapter(local), {
            trustedOrigins: originOf(local.baseUrl),
            secrets: secretsOf([local.token, local.webhookSecret]),
          }),
        ]
      : []),
    ...(replicate
      ? [
          withCheckedOutputLinks(createReplicateAdapter(replicate), {
            trustedOrigins: originOf(replicate.baseUrl),
            secrets: secretsOf([replicate.token, replicate.webhookSecret]),
          }),
        ]
      : []),
    ...(fal
      ? [
          withCheckedOutputLinks(createFalAdapter(fal), {
            trustedOrigins: originOf(fal.baseUrl),
            secrets: secretsOf([fal.key]),
          }),
        ]
      : []),
  ];
  return createProviderRegistry(
    Object.fromEntries(raw.map((adapter) => [adapter.name, makeResilient(adapter, resilience)])),
  );
};
