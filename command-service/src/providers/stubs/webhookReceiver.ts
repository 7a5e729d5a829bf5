import type { IncomingHttpHeaders } from 'node:http';
import { startHttpServer } from '#src/providers/stubs/httpServer.ts';

export type ReceivedWebhook = { path: string; headers: Record<string, string | undefined>; rawBody: Buffer };

const flatten = (headers: IncomingHttpHeaders): Record<string, string | undefined> =>
  Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(', ') : value]),
  );

/**
 * A webhook endpoint for tests: keeps every POST it gets (headers and raw body, ready for readWebhook)
 * and lets a test wait for the one it expects.
 */
export const startWebhookReceiver = async () => {
  const received: ReceivedWebhook[] = [];
  const waiters: Array<() => void> = [];
  const server = await startHttpServer({
    routes: [
      {
        method: 'POST',
        path: /^(\/.*)$/,
        handle: (request) => {
          received.push({
            path: request.url.pathname,
            headers: flatten(request.headers),
            rawBody: request.body,
          });
          for (const wake of waiters.splice(0)) wake();
          return { status: 204 };
        },
      },
    ],
  });

  return {
    url: server.url,
    received,
    /** The first delivery that matches, waiting up to `timeoutMs` for it. */
    async waitFor(
      matches: (webhook: ReceivedWebhook) => boolean,
      timeoutMs = 5_000,
    ): Promise<ReceivedWebhook> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = received.find(matches);
        if (found) return found;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error('no matching webhook arrived in time');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: server.close,
  };
};
