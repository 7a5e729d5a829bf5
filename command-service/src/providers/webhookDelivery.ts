import { Webhook } from 'standardwebhooks';

/**
 * Sending webhooks, as the local provider and the Replicate stub do: Standard Webhooks headers, a few
 * attempts with a growing pause, and deliveries for one job kept in order.
 */

export type Delivery = { url: string; body: string; headers: Record<string, string> };

export const standardWebhookHeaders = (
  secret: string,
  messageId: string,
  body: string,
  at = new Date(),
): Record<string, string> => ({
  'webhook-id': messageId,
  'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
  'webhook-signature': new Webhook(secret).sign(messageId, at, body),
});

/** POSTs a delivery until it gets a 2xx, up to `attempts` times; false when it never did. */
export const deliverWebhook = async (
  delivery: Delivery,
  options: { attempts?: number; timeoutMs?: number; pauseMs?: number } = {},
): Promise<boolean> => {
  const attempts = options.attempts ?? 3;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...delivery.headers },
        body: delivery.body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
      });
      await response.body?.cancel();
      if (response.ok) return true;
    } catch {
      // the receiver is down or slow: try again after a pause
    }
    await new Promise((resolve) => setTimeout(resolve, (options.pauseMs ?? 100) * 2 ** attempt));
  }
  return false;
};

/** Runs deliveries one after the other per key (a job), so a receiver sees a job's changes in order. */
export const createDeliveryLine = () => {
  const tails = new Map<string, Promise<unknown>>();
  return {
    send: (
      key: string,
      delivery: Delivery,
      options?: Parameters<typeof deliverWebhook>[1],
    ): Promise<boolean> => {
      const previous = tails.get(key) ?? Promise.resolve();
      const sent = previous.then(() => deliverWebhook(delivery, options));
      tails.set(key, sent);
      void sent.finally(() => {
        if (tails.get(key) === sent) tails.delete(key);
      });
      return sent;
    },
    /** Waits for every delivery under way. */
    idle: async (): Promise<void> => {
      await Promise.allSettled([...tails.values()]);
    },
  };
};
