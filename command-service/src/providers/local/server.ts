import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateLocalJob, type LocalJobView } from '#src/providers/local/api.ts';
import { createLocalJobs, type LocalJob, type LocalOutput } from '#src/providers/local/jobs.ts';
import { renderAnimation, renderImages } from '#src/providers/local/renderer.ts';
import { jsonBody, startHttpServer, type StubReply } from '#src/providers/stubs/httpServer.ts';
import { createDeliveryLine, standardWebhookHeaders } from '#src/providers/webhookDelivery.ts';

export type LocalProviderOptions = {
  port?: number;
  host?: string;
  /** Where rendered files are written and served from. */
  outputDir: string;
  /** How long a job runs once a worker has it (split into progress steps). Default 1 s. */
  delayMs?: number;
  /** The share of jobs (0..1) that fail with a plausible error. Default 0. */
  failureRate?: number;
  /** The source of chance for failures; tests pass a fixed one. */
  random?: () => number;
  /** Jobs run at once; the rest wait in the queue with a position. Default 2. */
  concurrency?: number;
  /** Signs webhooks (Standard Webhooks, `whsec_…`); one is made up when absent. */
  webhookSecret?: string;
  /** When set, /jobs calls need `Authorization: Bearer <token>`. */
  token?: string;
};

export type LocalProvider = { url: string; webhookSecret: string; close: () => Promise<void> };

const CONTENT_TYPES: Record<string, string> = { png: 'image/png', webp: 'image/webp' };

const apiError = (status: number, code: string, message: string): StubReply => ({
  status,
  body: { error: { code, message } },
});

/** A request that names no seed gets one from its job id (Kiln's adapter always names one). */
const seedOf = (job: LocalJob): number => job.input.seed ?? Number.parseInt(job.id.slice(3, 11), 16);

/**
 * Kiln's built-in provider: a real HTTP server that queues jobs, reports progress, renders pictures and
 * short animations with sharp, serves the files, and posts signed webhooks, like a hosted provider does.
 */
export const startLocalProvider = async (options: LocalProviderOptions): Promise<LocalProvider> => {
  const webhookSecret = options.webhookSecret ?? `whsec_${randomBytes(24).toString('base64')}`;
  const deliveries = createDeliveryLine();
  const sequence = new Map<string, number>();
  let baseUrl = '';
  await mkdir(options.outputDir, { recursive: true });

  const render = async (job: LocalJob): Promise<LocalOutput[]> => {
    const spec = { ...job.input, seed: seedOf(job) };
    const files = job.model === 'local/image' ? await renderImages(spec) : [await renderAnimation(spec)];
    return Promise.all(
      files.map(async (file, index) => {
        const name = `${job.id}-${index}.${file.extension}`;
        await writeFile(join(options.outputDir, name), file.data);
        return { path: `/outputs/${name}`, contentType: file.contentType };
      }),
    );
  };

  const view = (job: LocalJob): LocalJobView => ({
    id: job.id,
    model: job.model,
    status: job.status,
    created_at: job.createdAt.toISOString(),
    queue_position: jobs.queuePosition(job),
    progress: job.progress,
    step: job.step,
    logs: job.logs.slice(-50),
    outputs: job.outputs.map((output) => ({
      url: `${baseUrl}${output.path}`,
      content_type: output.contentType,
    })),
    error: job.error,
    urls: { get: `${baseUrl}/jobs/${job.id}`, cancel: `${baseUrl}/jobs/${job.id}/cancel` },
  });

  const notify = (job: LocalJob) => {
    if (!job.webhook) return;
    const seq = (sequence.get(job.id) ?? 0) + 1;
    sequence.set(job.id, seq);
    const body = JSON.stringify(view(job));
    const headers = standardWebhookHeaders(webhookSecret, `msg_${job.id}_${seq}`, body);
    void deliveries.send(job.id, { url: job.webhook, body, headers });
  };

  const jobs = createLocalJobs({
    delayMs: options.delayMs ?? 1_000,
    failureRate: options.failureRate ?? 0,
    random: options.random ?? Math.random,
    concurrency: options.concurrency ?? 2,
    render,
    onChange: notify,
  });

  const authorized = (headers: Record<string, string | string[] | undefined>) =>
    options.token === undefined || headers.authorization === `Bearer ${options.token}`;
  const unauthorized = apiError(401, 'unauthenticated', 'a valid bearer token is required');

  const server = await startHttpServer({
    ...(options.port === undefined ? {} : { port: options.port }),
    ...(options.host === undefined ? {} : { host: options.host }),
    routes: [
      {
        method: 'POST',
        path: /^\/jobs$/,
        handle: (request) => {
          if (!authorized(request.headers)) return unauthorized;
          const parsed = CreateLocalJob.safeParse(jsonBody(request));
          if (!parsed.success)
            return apiError(400, 'invalid_request', parsed.error.issues[0]?.message ?? 'invalid');
          const key = request.headers['idempotency-key'];
          const made = jobs.create(parsed.data, typeof key === 'string' ? key : undefined);
          if (made === 'conflict') {
            return apiError(409, 'idempotency_conflict', 'this Idempotency-Key was used with another body');
          }
          return { status: made.created ? 201 : 200, body: view(made.job) };
        },
      },
      {
        method: 'GET',
        path: /^\/jobs\/([\w-]+)$/,
        handle: (request, [id = '']) => {
          if (!authorized(request.headers)) return unauthorized;
          const job = jobs.get(id);
          return job ? { status: 200, body: view(job) } : apiError(404, 'not_found', 'no such job');
        },
      },
      {
        method: 'POST',
        path: /^\/jobs\/([\w-]+)\/cancel$/,
        handle: (request, [id = '']) => {
          if (!authorized(request.headers)) return unauthorized;
          const job = jobs.cancel(id);
          return job ? { status: 200, body: view(job) } : apiError(404, 'not_found', 'no such job');
        },
      },
      {
        method: 'GET',
        path: /^\/outputs\/([\w-]+\.(png|webp))$/,
        handle: async (_request, [name = '', extension = '']) => {
          try {
            const data = await readFile(join(options.outputDir, name));
            return {
              status: 200,
              headers: { 'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream' },
              body: data,
            };
          } catch {
            return apiError(404, 'not_found', 'no such output');
          }
        },
      },
      { method: 'GET', path: /^\/health$/, handle: () => ({ status: 200, body: { ok: true } }) },
    ],
  });
  baseUrl = server.url;

  return {
    url: server.url,
    webhookSecret,
    close: async () => {
      jobs.stop();
      await server.close();
    },
  };
};
