import { randomBytes } from 'node:crypto';
import { createFaultScript, createWebhookGate, type CallKind } from '#src/providers/stubs/faults.ts';
import { jsonBody, startHttpServer, type StubReply } from '#src/providers/stubs/httpServer.ts';
import { createTimers } from '#src/providers/stubs/timers.ts';
import { TINY_PNG } from '#src/providers/stubs/tinyPng.ts';
import { createDeliveryLine, standardWebhookHeaders, type Delivery } from '#src/providers/webhookDelivery.ts';
import {
  predictionFrom,
  predictionView,
  type StubPrediction as Prediction,
} from '#src/providers/replicate/stubPredictions.ts';

/**
 * A stand-in for Replicate's HTTP API on a local port: predictions (by version or by official model),
 * get, cancel, output files, and Standard Webhooks signed with a test secret, with faults on demand.
 */

export type ReplicateStubOptions = {
  port?: number;
  host?: string;
  token?: string;
  webhookSecret?: string;
  /** From creation to the end of a prediction. Default 150 ms. */
  delayMs?: number;
};

/** How the next prediction made differs: slower, printing a line of its own (its latest, at the start), or other outputs. */
export type PredictionTuning = { delayMs?: number; log?: string; outputs?: string[] };

const PATHS: Array<{ method: string; path: RegExp; tag: CallKind | 'file' }> = [
  { method: 'POST', path: /^\/v1\/predictions$/, tag: 'create' },
  { method: 'POST', path: /^\/v1\/models\/([\w.-]+)\/([\w.-]+)\/predictions$/, tag: 'create' },
  { method: 'GET', path: /^\/v1\/predictions\/(\w+)$/, tag: 'status' },
  { method: 'POST', path: /^\/v1\/predictions\/(\w+)\/cancel$/, tag: 'cancel' },
  { method: 'GET', path: /^\/files\/(\w+)\/(\d+)\.png$/, tag: 'file' },
];

export const startReplicateStub = async (options: ReplicateStubOptions = {}) => {
  const token = options.token ?? `r8_${randomBytes(16).toString('hex')}`;
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(32).toString('base64')}`;
  const faults = createFaultScript();
  const deliveries = createDeliveryLine();
  const predictions = new Map<string, Prediction>();
  const jobFailures: string[] = [];
  const tunings: PredictionTuning[] = [];
  const sent: Delivery[] = [];
  const webhooks = createWebhookGate((id: string, delivery: Delivery) => {
    sent.push(delivery);
    void deliveries.send(id, delivery);
  });
  const timers = createTimers();
  const later = timers.later;
  let origin = '';

  const view = (p: Prediction) => predictionView(p, origin);

  const emit = (p: Prediction, event: 'start' | 'output' | 'logs' | 'completed') => {
    if (!p.webhook || !p.events.includes(event)) return;
    const body = JSON.stringify(view(p));
    const headers = standardWebhookHeaders(webhookSecret, `msg_${randomBytes(12).toString('hex')}`, body);
    webhooks.send(p.id, { url: p.webhook, body, headers });
  };

  const run = (p: Prediction, failure: string | undefined, tuning: PredictionTuning = {}) => {
    const live = () => p.status === 'starting' || p.status === 'processing';
    const delayMs = tuning.delayMs ?? options.delayMs ?? 150;
    later(delayMs / 3, () => {
      if (!live()) return;
      p.status = 'processing';
      p.logs += `Using seed: 1234\n  0%|          | 0/4 [00:00<?, ?it/s]\n${tuning.log ? `${tuning.log}\n` : ''}`;
      emit(p, 'logs');
    });
    later((2 * delayMs) / 3, () => {
      if (!live()) return;
      p.logs += ' 50%|█████     | 2/4 [00:01<00:01, 1.9it/s]\n';
      emit(p, 'logs');
    });
    later(delayMs, () => {
      if (!live()) return;
      p.completed_at = new Date().toISOString();
      if (failure) {
        Object.assign(p, { status: 'failed', error: failure });
      } else {
        const count = Math.max(1, Number(p.input.num_outputs ?? 1));
        p.output =
          tuning.outputs ?? Array.from({ length: count }, (_, i) => `${origin}/files/${p.id}/${i}.png`);
        p.status = 'succeeded';
        p.logs += '100%|██████████| 4/4 [00:02<00:00, 1.9it/s]\n';
        emit(p, 'output');
      }
      emit(p, 'completed');
    });
  };

  const create = (body: unknown, model: string): StubReply => {
    const p = predictionFrom(body, model);
    if (!p) {
      return {
        status: 422,
        body: { title: 'Input validation failed', detail: '- input is required', status: 422 },
      };
    }
    predictions.set(p.id, p);
    emit(p, 'start');
    run(p, jobFailures.shift(), tunings.shift());
    return { status: 201, body: view(p) };
  };

  const notFound: StubReply = {
    status: 404,
    body: { title: 'Not found', detail: 'Not found.', status: 404 },
  };
  const handlers: Record<string, (body: unknown, params: string[]) => StubReply> = {
    create: (body, [owner, name]) => create(body, owner && name ? `${owner}/${name}` : 'community/model'),
    status: (_body, [id = '']) => {
      const p = predictions.get(id);
      return p ? { status: 200, body: view(p) } : notFound;
    },
    cancel: (_body, [id = '']) => {
      const p = predictions.get(id);
      if (!p) return notFound;
      if (p.status === 'starting' || p.status === 'processing') {
        Object.assign(p, { status: 'canceled', completed_at: new Date().toISOString() });
        emit(p, 'completed');
      }
      return { status: 200, body: view(p) };
    },
    file: () => ({ status: 200, headers: { 'content-type': 'image/png' }, body: TINY_PNG }),
  };

  const server = await startHttpServer({
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host === undefined ? {} : { host: options.host }),
    routes: PATHS.map(({ method, path, tag }) => ({
      method,
      path,
      tag,
      handle: (request, params) => (handlers[tag] ?? (() => notFound))(jsonBody(request), params),
    })),
    before: async (request, route, response) => {
      if (route.tag === 'file') return false;
      if (request.headers.authorization !== `Bearer ${token}`) {
        faults.calls[route.tag as CallKind] += 1;
        response.writeHead(401, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            title: 'Unauthenticated',
            detail: 'You did not pass a valid authentication token',
            status: 401,
          }),
        );
        return true;
      }
      return faults.play(route.tag as CallKind, response);
    },
  });
  origin = server.url;

  return {
    /** The API's base URL, to give the adapter as `baseUrl`. */
    url: `${server.url}/v1`,
    token,
    webhookSecret,
    predictions,
    calls: faults.calls,
    /** How many predictions were made (what a duplicate create would show). */
    created: () => predictions.size,
    failNext: faults.failNext,
    hangNext: faults.hangNext,
    malformedNext: faults.malformedNext,
    failAlways: faults.failAlways,
    clearFaults: faults.clear,
    /** The next prediction made fails with this error (Replicate's wording, e.g. an NSFW refusal). */
    failJobNext: (error = 'Prediction failed: CUDA out of memory') => void jobFailures.push(error),
    /** The next prediction made is tuned so (one tuning per prediction, in order). */
    tuneNext: (tuning: PredictionTuning) => void tunings.push(tuning),
    /** Every webhook the stub sent, in order, as sent (to send one again); none lost or still held. */
    webhooksSent: (): readonly Delivery[] => sent,
    /** Loses every webhook from now on (the predictions still run), until `releaseWebhooks`. */
    dropWebhooks: webhooks.drop,
    /** Keeps every webhook back from now on, until `releaseWebhooks` sends them late. */
    holdWebhooks: webhooks.hold,
    /** Sends the webhooks held back, in order, and every later one at once. */
    releaseWebhooks: webhooks.release,
    /** The webhooks lost while dropping, in order. */
    webhooksLost: webhooks.lost,
    /** Waits for webhooks under way to be delivered. */
    deliveriesIdle: deliveries.idle,
    close: async () => {
      timers.clear();
      faults.stop();
      await server.close();
    },
  };
};

export type ReplicateStub = Awaited<ReturnType<typeof startReplicateStub>>;
