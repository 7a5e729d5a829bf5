import { randomUUID } from 'node:crypto';
import { createFalSigner } from '#src/providers/fal/stubSigner.ts';
import {
  falStubResult,
  falStubStatus,
  type FalJobFailure,
  type FalStubRequest,
} from '#src/providers/fal/stubRequests.ts';
import { createFaultScript, createWebhookGate, type CallKind } from '#src/providers/stubs/faults.ts';
import {
  jsonBody,
  startHttpServer,
  type StubReply,
  type StubRequest,
} from '#src/providers/stubs/httpServer.ts';
import { createTimers } from '#src/providers/stubs/timers.ts';
import { TINY_PNG } from '#src/providers/stubs/tinyPng.ts';
import { createDeliveryLine, type Delivery } from '#src/providers/webhookDelivery.ts';

export { FAL_STUB_USER } from '#src/providers/fal/stubSigner.ts';
export type { FalJobFailure } from '#src/providers/fal/stubRequests.ts';

/**
 * A stand-in for fal's queue API on a local port: submit (with `?fal_webhook=`), status with queue
 * position and logs, result, cancel, output files, and webhooks signed with a test ED25519 key whose
 * public half it publishes at /.well-known/jwks.json. Faults on demand, like the Replicate stub.
 */

export type FalStubOptions = { port?: number; host?: string; key?: string; delayMs?: number };

const REQUEST = String.raw`\/[\w.-]+\/[\w.-]+\/requests\/([\w-]+)`;

export const startFalStub = async (options: FalStubOptions = {}) => {
  const key = options.key ?? `stub-key-id:${randomUUID()}`;
  const delayMs = options.delayMs ?? 150;
  const signer = createFalSigner();
  const faults = createFaultScript();
  const deliveries = createDeliveryLine();
  const webhooks = createWebhookGate((id: string, delivery: Delivery) => void deliveries.send(id, delivery));
  const timers = createTimers();
  const requests = new Map<string, FalStubRequest>();
  const jobFailures: FalJobFailure[] = [];
  let origin = '';
  let jwksFetches = 0;

  const complete = (r: FalStubRequest) => {
    r.state = 'COMPLETED';
    if (!r.webhook) return;
    const answer = falStubResult(r, origin);
    const ok = answer.status === 200;
    const payload = JSON.stringify({
      request_id: r.id,
      gateway_request_id: r.id,
      status: ok ? 'OK' : 'ERROR',
      payload: answer.body,
      ...(ok ? {} : { error: `Invalid status code: ${answer.status}` }),
    });
    const { headers } = signer.signedDelivery(r.id, payload);
    webhooks.send(r.id, { url: r.webhook, body: payload, headers });
  };

  const log = (r: FalStubRequest, message: string) =>
    r.logs.push({ message, level: 'INFO', timestamp: new Date().toISOString() });

  const submit = (app: string, body: unknown, webhook: string | null): StubReply => {
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      const detail = [{ loc: ['body'], msg: 'Input should be an object', type: 'model_attributes_type' }];
      return { status: 422, body: { detail } };
    }
    const id = randomUUID();
    const r: FalStubRequest = {
      id,
      app,
      input: body as Record<string, unknown>,
      state: 'IN_QUEUE',
      logs: [],
      failure: jobFailures.shift(),
      webhook: webhook ?? undefined,
    };
    requests.set(id, r);
    timers.later(delayMs / 3, () => {
      if (r.state !== 'IN_QUEUE') return;
      r.state = 'IN_PROGRESS';
      log(r, 'Starting inference');
    });
    timers.later((2 * delayMs) / 3, () => r.state === 'IN_PROGRESS' && log(r, ' 50%|█████     | 14/28'));
    timers.later(delayMs, () => r.state === 'IN_PROGRESS' && complete(r));
    const urls = `${origin}/${app.split('/').slice(0, 2).join('/')}/requests/${id}`;
    const links = { status_url: `${urls}/status`, response_url: urls, cancel_url: `${urls}/cancel` };
    return { status: 200, body: { request_id: id, gateway_request_id: id, ...links, status: 'IN_QUEUE' } };
  };

  const cancel = (r: FalStubRequest): StubReply => {
    if (r.state === 'COMPLETED') return { status: 400, body: { status: 'ALREADY_COMPLETED' } };
    const queued = r.state === 'IN_QUEUE';
    r.failure = 'canceled';
    complete(r);
    return queued
      ? { status: 200, body: { status: 'OK' } }
      : { status: 202, body: { status: 'CANCELLATION_REQUESTED' } };
  };

  const notFound: StubReply = { status: 404, body: { detail: 'Request not found' } };
  const byId =
    (reply: (r: FalStubRequest) => StubReply) =>
    (_request: StubRequest, [id = '']: string[]) => {
      const r = requests.get(id);
      return r ? reply(r) : notFound;
    };

  const server = await startHttpServer({
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host === undefined ? {} : { host: options.host }),
    routes: [
      {
        method: 'GET',
        path: /^\/\.well-known\/jwks\.json$/,
        tag: 'open',
        handle: () => {
          jwksFetches += 1;
          return { status: 200, body: signer.jwks() };
        },
      },
      {
        method: 'GET',
        path: /^\/files\/[\w-]+\/\d+\.png$/,
        tag: 'open',
        handle: () => ({ status: 200, headers: { 'content-type': 'image/png' }, body: TINY_PNG }),
      },
      { method: 'GET', path: new RegExp(`^${REQUEST}/status$`), tag: 'status', handle: byId(falStubStatus) },
      {
        method: 'GET',
        path: new RegExp(`^${REQUEST}$`),
        tag: 'result',
        handle: byId((r) =>
          r.state === 'COMPLETED'
            ? falStubResult(r, origin)
            : { status: 400, body: { detail: 'Request is still in progress' } },
        ),
      },
      { method: 'PUT', path: new RegExp(`^${REQUEST}/cancel$`), tag: 'cancel', handle: byId(cancel) },
      {
        method: 'POST',
        path: /^\/([\w.-]+(?:\/[\w.-]+)+)$/,
        tag: 'create',
        handle: (request, [app = '']) =>
          submit(app, jsonBody(request), request.url.searchParams.get('fal_webhook')),
      },
    ],
    before: async (request, matched, response) => {
      if (matched.tag === 'open') return false;
      if (request.headers.authorization !== `Key ${key}`) {
        faults.calls[matched.tag as CallKind] += 1;
        response.writeHead(401, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ detail: 'Cannot access application. Authentication is required.' }));
        return true;
      }
      return faults.play(matched.tag as CallKind, response);
    },
  });
  origin = server.url;

  return {
    /** The queue's base URL, to give the adapter as `baseUrl`. */
    url: server.url,
    key,
    /** The stub's JWKS, to give the adapter as `webhooks.jwksUrl`. */
    jwksUrl: `${server.url}/.well-known/jwks.json`,
    requests,
    calls: faults.calls,
    /** How many requests were queued (what a duplicate submit would show). */
    created: () => requests.size,
    failNext: faults.failNext,
    hangNext: faults.hangNext,
    malformedNext: faults.malformedNext,
    failAlways: faults.failAlways,
    clearFaults: faults.clear,
    /** The next request queued fails this way. */
    failJobNext: (how: FalJobFailure = 'runner') => void jobFailures.push(how),
    signedDelivery: signer.signedDelivery,
    /** How often the JWKS was fetched (a verifier should cache it). */
    jwksFetches: () => jwksFetches,
    deliveriesIdle: deliveries.idle,
    /** Loses every webhook from now on (the requests still run), until `releaseWebhooks`. */
    dropWebhooks: webhooks.drop,
    /** Keeps every webhook back from now on, until `releaseWebhooks` sends them late. */
    holdWebhooks: webhooks.hold,
    /** Sends the webhooks held back, in order, and every later one at once. */
    releaseWebhooks: webhooks.release,
    /** The webhooks lost while dropping, in order. */
    webhooksLost: webhooks.lost,
    close: async () => {
      timers.clear();
      faults.stop();
      await server.close();
    },
  };
};

export type FalStub = Awaited<ReturnType<typeof startFalStub>>;
