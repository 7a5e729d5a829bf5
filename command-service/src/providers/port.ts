import type { CatalogModel } from '@kiln/contracts/catalog';
import type { JobFailureCode } from '@kiln/contracts/job/events';
import type { GenerationRequest } from '@kiln/contracts/job/request';

/** One logical call to create a job at a provider. The idempotency key is the same for every retry of it. */
export type ProviderJobRequest = {
  jobId: string;
  attempt: number;
  /** `<jobId>/attempt-<n>`: a retried create must not make a second prediction. */
  idempotencyKey: string;
  model: CatalogModel;
  request: GenerationRequest;
  /** Input images as data: URLs (both Replicate and fal accept them). */
  inputs: string[];
  /** Where the provider should report, when Kiln can be reached; polling covers the rest. */
  webhookUrl?: string;
};

export type ProviderOutput = { url: string; contentType?: string };

/** Where a job stands at its provider, in Kiln's words. */
export type ProviderStatus =
  | { state: 'queued'; queuePosition?: number; logs: string[] }
  | { state: 'running'; progress?: number; step?: string; logs: string[] }
  | { state: 'succeeded'; outputs: ProviderOutput[] }
  | { state: 'failed'; code: JobFailureCode; retryable: boolean }
  | { state: 'canceled' };

/** Per call: the resilience wrapper passes a signal that aborts the HTTP request when the call times out. */
export type CallOptions = { signal?: AbortSignal };

/** A webhook delivery, verified and read. */
export type ProviderWebhook = { deliveryId: string; providerJobId: string; status: ProviderStatus };

export type WebhookRequest = { headers: Record<string, string | undefined>; rawBody: Buffer };

/**
 * One AI provider. Adapters speak the provider's real HTTP API and answer in Kiln's terms; they throw
 * ProviderError (with a Kiln code, `retryable` and any Retry-After) and nothing with the provider's own
 * wording or secrets in it.
 */
export interface ProviderAdapter {
  readonly name: string;
  /**
   * True when the provider itself deduplicates creates by `idempotencyKey` (the local provider does;
   * Replicate and fal have no such key), so a create may be sent again after an ambiguous failure.
   */
  readonly idempotentCreates?: boolean;
  createImageJob(request: ProviderJobRequest, options?: CallOptions): Promise<{ providerJobId: string }>;
  createVideoJob(request: ProviderJobRequest, options?: CallOptions): Promise<{ providerJobId: string }>;
  getStatus(providerJobId: string, model: CatalogModel, options?: CallOptions): Promise<ProviderStatus>;
  /** The outputs of a finished job (fal keeps them apart from the status; Replicate in the prediction). */
  getResult(providerJobId: string, model: CatalogModel, options?: CallOptions): Promise<ProviderOutput[]>;
  /** Asks for a cancel; 'canceled' when the provider confirms, 'finished' when it had already ended. */
  cancel(
    providerJobId: string,
    model: CatalogModel,
    options?: CallOptions,
  ): Promise<'canceled' | 'finished' | 'requested'>;
  /** Verifies a webhook by the provider's own scheme (throws InvalidWebhookSignature) and reads it. */
  readWebhook(request: WebhookRequest): Promise<ProviderWebhook>;
}

/** Which of a provider's limits a 402/429 answer hit (for ProviderLimitHit events). */
export type ProviderLimit = 'rate' | 'quota' | 'concurrency';

export type ProviderErrorOptions = {
  retryable: boolean;
  retryAfterMs?: number;
  limit?: ProviderLimit;
  /**
   * The provider provably did not act on the request (the connection was refused, or it answered 429),
   * so sending it again, even a create, cannot start a second job. False when it may have been received.
   */
  safeToRepeat?: boolean;
};

export class ProviderError extends Error {
  readonly code: JobFailureCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly limit: ProviderLimit | undefined;
  readonly safeToRepeat: boolean;
  constructor(code: JobFailureCode, message: string, options: ProviderErrorOptions) {
    super(message);
    this.name = 'ProviderError';
    this.code = code;
    this.retryable = options.retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.limit = options.limit;
    this.safeToRepeat = options.safeToRepeat ?? false;
  }
}

export class InvalidWebhookSignature extends Error {
  constructor(provider: string) {
    super(`the ${provider} webhook signature is missing, wrong or too old`);
    this.name = 'InvalidWebhookSignature';
  }
}
