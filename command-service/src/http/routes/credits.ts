import express, { Router } from 'express';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { ApiProblem } from '@kiln/contracts/http/problem';
import { userOf } from '@kiln/identity/http';
import type { Credits } from '#src/app/credits.ts';
import { contextOf, keyedContextOf } from '#src/http/context.ts';
import { routes } from '#src/http/contracts.ts';
import type { Mount } from '#src/http/route.ts';
import type { RequestHandler } from 'express';

/** Admin grants and adjustments. */
export const adminCreditRoutes = (deps: { mount: Mount; credits: Credits }): Router => {
  const router = Router();
  deps.mount(router, routes.grantCredits, [], (input, req, res) =>
    deps.credits.grant(userOf(res).id, input.params.accountId, input.body, keyedContextOf(req, res)),
  );
  deps.mount(router, routes.adjustCredits, [], (input, req, res) =>
    deps.credits.adjust(userOf(res).id, input.params.accountId, input.body, keyedContextOf(req, res)),
  );
  return router;
};

/**
 * Checks a Standard Webhooks signature (HMAC-SHA256 over id, timestamp and the raw body; timestamps
 * outside a five-minute window are refused) before the body is parsed. A bad signature changes nothing.
 */
const verifiedWebhook = (secret: string): RequestHandler[] => {
  const webhook = new Webhook(secret);
  return [
    express.raw({ type: 'application/json', limit: '16kb' }),
    (req, _res, next) => {
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      try {
        req.body = webhook.verify(raw, {
          'webhook-id': req.get('webhook-id') ?? '',
          'webhook-timestamp': req.get('webhook-timestamp') ?? '',
          'webhook-signature': req.get('webhook-signature') ?? '',
        });
      } catch (error) {
        if (error instanceof WebhookVerificationError) {
          throw new ApiProblem('unauthenticated', 'the webhook signature is missing, wrong or too old');
        }
        throw new ApiProblem('validation_failed', 'the webhook body is not valid JSON');
      }
      next();
    },
  ];
};

/** The payment provider's webhook: a payment bought credits. A replay is answered the same and charges nothing. */
export const paymentWebhookRoutes = (deps: { mount: Mount; credits: Credits; secret: string }): Router => {
  const router = Router();
  deps.mount(router, routes.paymentWebhook, verifiedWebhook(deps.secret), (input, req, res) =>
    deps.credits.purchase(input.body.data, {
      ...contextOf(req, res),
      actor: { kind: 'system', id: 'payments' },
    }),
  );
  return router;
};
