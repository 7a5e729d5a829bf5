import { Webhook } from 'standardwebhooks';
import { lowerCaseHeaders } from '#src/providers/http.ts';
import { InvalidWebhookSignature, type WebhookRequest } from '#src/providers/port.ts';

/**
 * Checks a Standard Webhooks delivery (HMAC-SHA256 over `webhook-id.webhook-timestamp.body` with the
 * `whsec_…` secret, timestamps within five minutes) and returns its id and JSON body. Anything wrong,
 * missing or too old is an InvalidWebhookSignature naming the provider, never the reason.
 */
export const verifyStandardWebhook = (
  provider: string,
  secret: string | undefined,
  request: WebhookRequest,
): { deliveryId: string; payload: unknown } => {
  const headers = lowerCaseHeaders(request.headers);
  const deliveryId = headers['webhook-id'];
  if (!secret || !deliveryId) throw new InvalidWebhookSignature(provider);
  try {
    return { deliveryId, payload: new Webhook(secret).verify(request.rawBody, headers) };
  } catch {
    throw new InvalidWebhookSignature(provider);
  }
};
