import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  DelegateBackoff,
  fullJitterGenerator,
  handleWhen,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  type IRetryBackoffContext,
} from 'cockatiel';
import type { JobFailureCode } from '@kiln/contracts/job/events';
import { timeoutError } from '#src/providers/errors.ts';
import {
  ProviderError,
  type CallOptions,
  type ProviderAdapter,
  type ProviderLimit,
} from '#src/providers/port.ts';

export type BreakerState = 'opened' | 'half-open' | 'closed';

export type BreakerChange = {
  provider: string;
  consecutiveFailures: number;
  halfOpenAfterMs: number;
  /** The failure that opened it ('opened' only). */
  lastFailure?: JobFailureCode;
};

export type ResilienceOptions = {
  /** Each HTTP call to the provider is cut after this long (and counts as a provider_timeout). */
  timeoutMs: number;
  /** Calls per logical call, the first one included. */
  maxAttempts: number;
  /** Retries wait a random time in [0, min(maxDelayMs, initialDelayMs × 2^n)) (full jitter)... */
  initialDelayMs: number;
  /** ...and never less than the provider's Retry-After; a Retry-After longer than this is left to the caller. */
  maxDelayMs: number;
  breaker: { consecutiveFailures: number; halfOpenAfterMs: number };
  /** Breaker transitions, for ProviderBreakerOpened / HalfOpened / Closed events (appended by the caller). */
  onBreakerChange?: (state: BreakerState, details: BreakerChange) => void | Promise<void>;
  /** Every answer that says a limit was hit (429, 402), for ProviderLimitHit events. */
  onLimitHit?: (hit: LimitHit) => void | Promise<void>;
  /** Each retry, with the pause before it. */
  onRetry?: (retry: { provider: string; attempt: number; delayMs: number }) => void;
};

export type LimitHit = { provider: string; limit: ProviderLimit; retryAfterMs?: number };

export const DEFAULT_RESILIENCE: ResilienceOptions = {
  timeoutMs: 15_000,
  maxAttempts: 4,
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  breaker: { consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
};

/** Failures that say the provider is unwell (not a rejected request, nor a limit it announced). */
const HEALTH_FAILURES = new Set<JobFailureCode>([
  'provider_unavailable',
  'provider_timeout',
  'provider_error',
]);
const isHealthFailure = (error: unknown) =>
  error instanceof ProviderError && HEALTH_FAILURES.has(error.code) && error.limit === undefined;

/**
 * The adapter with a timeout per call, retries with exponential backoff and full jitter for retryable
 * ProviderErrors (honouring Retry-After), and one circuit breaker for all its calls.
 *
 * Creates are retried only when repeating them cannot make a second job: the adapter's provider
 * deduplicates by idempotency key (`idempotentCreates`), or the error proves the request was not acted on
 * (`safeToRepeat`: 429, connection refused). Reads and cancels are idempotent and retried on any
 * retryable error. While the breaker is open every call fails at once with provider_unavailable
 * (retryable, with the time left before it tries again); after `halfOpenAfterMs` the next call is let
 * through as a probe (half-open), and its success closes the breaker. Wrap each adapter once: the
 * breaker belongs to the wrapper.
 */
export const makeResilient = (adapter: ProviderAdapter, options: ResilienceOptions): ProviderAdapter => {
  const { consecutiveFailures, halfOpenAfterMs } = options.breaker;
  const details = { provider: adapter.name, consecutiveFailures, halfOpenAfterMs };
  let openedAt = 0;

  /** Listeners are told after the fact; one that throws or rejects changes nothing for the calls. */
  const notify = (listener: () => unknown) =>
    void Promise.resolve()
      .then(listener)
      .catch(() => undefined);
  const tell = (state: BreakerState, change: BreakerChange) =>
    notify(() => options.onBreakerChange?.(state, change));
  const limitHit = (error: unknown) => {
    if (!(error instanceof ProviderError) || !error.limit) return;
    const { limit, retryAfterMs } = error;
    notify(() =>
      options.onLimitHit?.({
        provider: adapter.name,
        limit,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      }),
    );
  };

  const breaker = circuitBreaker(handleWhen(isHealthFailure), {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(consecutiveFailures),
  });
  breaker.onBreak((reason) => {
    openedAt = Date.now();
    const error = 'error' in reason ? reason.error : undefined;
    tell('opened', error instanceof ProviderError ? { ...details, lastFailure: error.code } : details);
  });
  breaker.onHalfOpen(() => tell('half-open', details));
  breaker.onReset(() => tell('closed', details));

  const perCall = timeout(options.timeoutMs, TimeoutStrategy.Aggressive);

  const backoff = new DelegateBackoff<IRetryBackoffContext<unknown>, number | undefined>(
    (context, attempts) => {
      const [jittered, next] = fullJitterGenerator(attempts, {
        generator: fullJitterGenerator,
        initialDelay: options.initialDelayMs,
        maxDelay: options.maxDelayMs,
        exponent: 2,
      });
      const error = 'error' in context.result ? context.result.error : undefined;
      const retryAfterMs = error instanceof ProviderError ? (error.retryAfterMs ?? 0) : 0;
      return { delay: Math.max(jittered, retryAfterMs), state: next };
    },
  );

  const retryWhen = (mayRepeat: boolean) =>
    retry(
      handleWhen(
        (error) =>
          error instanceof ProviderError &&
          error.retryable &&
          (mayRepeat || error.safeToRepeat) &&
          (error.retryAfterMs ?? 0) <= options.maxDelayMs,
      ),
      { maxAttempts: Math.max(0, options.maxAttempts - 1), backoff },
    );
  const retryCreates = retryWhen(adapter.idempotentCreates === true);
  const retryOthers = retryWhen(true);
  for (const policy of [retryCreates, retryOthers]) {
    policy.onRetry(({ attempt, delay }) =>
      notify(() => options.onRetry?.({ provider: adapter.name, attempt, delayMs: delay })),
    );
  }

  const once = <T>(call: (signal: AbortSignal) => Promise<T>, outer: AbortSignal) =>
    breaker.execute(async () => {
      try {
        return await perCall.execute(({ signal }) => call(signal), outer);
      } catch (error) {
        limitHit(error);
        throw error instanceof TaskCancelledError ? timeoutError() : error;
      }
    }, outer);

  const run = async <T>(
    kind: 'create' | 'other',
    call: (signal: AbortSignal) => Promise<T>,
    given?: CallOptions,
  ) => {
    try {
      const policy = kind === 'create' ? retryCreates : retryOthers;
      return await policy.execute(({ signal }) => once(call, signal), given?.signal);
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        throw new ProviderError('provider_unavailable', 'the provider is failing; Kiln paused calls to it', {
          retryable: true,
          retryAfterMs: Math.max(0, openedAt + halfOpenAfterMs - Date.now()),
        });
      }
      throw error instanceof TaskCancelledError ? timeoutError() : error;
    }
  };

  return {
    name: adapter.name,
    ...(adapter.idempotentCreates === undefined ? {} : { idempotentCreates: adapter.idempotentCreates }),
    createImageJob: (job, given) => run('create', (signal) => adapter.createImageJob(job, { signal }), given),
    createVideoJob: (job, given) => run('create', (signal) => adapter.createVideoJob(job, { signal }), given),
    getStatus: (id, model, given) =>
      run('other', (signal) => adapter.getStatus(id, model, { signal }), given),
    getResult: (id, model, given) =>
      run('other', (signal) => adapter.getResult(id, model, { signal }), given),
    cancel: (id, model, given) => run('other', (signal) => adapter.cancel(id, model, { signal }), given),
    readWebhook: (request) => adapter.readWebhook(request),
  };
};
