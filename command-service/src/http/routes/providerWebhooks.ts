import express, { Router } from 'express';
import { ApiProblem } from '@kiln/contracts/http/problem';
import type { CommandHandler } from '#src/app/commandHandler.ts';
import { routes } from '#src/http/contracts.ts';
import type { Mount } from '#src/http/route.ts';
import { systemContext } from '#src/processes/effects.ts';
import type { JobWork } from '#src/processes/jobWork.ts';
import { applyProviderStatus } from '#src/processes/providerStatus.ts';
import { InvalidWebhookSignature, ProviderError, type ProviderAdapter } from '#src/providers/port.ts';

/**
 * `POST /v1/webhooks/providers/:provider`: a provider reports on a job. Verified by the provider's own
 * signature scheme (401 and nothing changes when it fails), then fed into the same job timeline as
 * polling. A delivery seen before appends nothing: its events are keyed by the delivery id.
 */
export const providerWebhookRoutes = (deps: {
  mount: Mount;
  adapters: ReadonlyMap<string, ProviderAdapter>;
  handle: CommandHandler;
  work: JobWork;
}): Router => {
  const router = Router();
  deps.mount(
    router,
    routes.providerWebhook,
    [express.raw({ type: () => true, limit: '1mb' })],
    async (input, req) => {
      const { provider } = input.params;
      const adapter = deps.adapters.get(provider);
      if (!adapter) throw new ApiProblem('not_found', `no provider ${provider} here`);
      let webhook;
      try {
        webhook = await adapter.readWebhook({
          headers: Object.fromEntries(
            Object.entries(req.headers).map(([name, value]) => [
              name,
              Array.isArray(value) ? value.join(',') : value,
            ]),
          ),
          rawBody: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        });
      } catch (error) {
        if (error instanceof InvalidWebhookSignature) throw new ApiProblem('unauthenticated', error.message);
        if (error instanceof ProviderError)
          throw new ApiProblem('validation_failed', 'the webhook body could not be read');
        throw error;
      }
      const item = await deps.work.byProviderJob(provider, webhook.providerJobId);
      // Not (yet) a job of ours, or already over: polling has it covered, and the provider need not retry.
      if (!item) return { applied: false };
      await applyProviderStatus(
        deps.handle,
        provider,
        item.jobId,
        webhook.status,
        systemContext(`webhook/${provider}/${webhook.deliveryId}`, item.jobId),
      );
      return { applied: true };
    },
  );
  return router;
};
