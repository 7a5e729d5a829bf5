import { randomBytes } from 'node:crypto';
import { z } from 'zod';

/** The Replicate stub's predictions: what a create body makes, and how a prediction is shown. */

export type StubPrediction = {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';
  output: string[] | null;
  error: string | null;
  logs: string;
  created_at: string;
  completed_at: string | null;
  webhook: string | undefined;
  /** Which webhook events its creator asked for (Replicate's default: output and completed). */
  events: string[];
};

const CreateBody = z.object({
  version: z.string().optional(),
  input: z.record(z.string(), z.unknown()),
  webhook: z.string().optional(),
  webhook_events_filter: z.array(z.enum(['start', 'output', 'logs', 'completed'])).optional(),
});

/** A new prediction from a create body, or undefined when the body is not one Replicate would take. */
export const predictionFrom = (body: unknown, model: string): StubPrediction | undefined => {
  const asked = CreateBody.safeParse(body);
  if (!asked.success) return undefined;
  return {
    id: randomBytes(13).toString('hex').slice(0, 26),
    model,
    version: asked.data.version ?? 'hidden',
    input: asked.data.input,
    status: 'starting',
    output: null,
    error: null,
    logs: '',
    created_at: new Date().toISOString(),
    completed_at: null,
    webhook: asked.data.webhook,
    events: asked.data.webhook_events_filter ?? ['output', 'completed'],
  };
};

export const predictionView = (p: StubPrediction, origin: string) => {
  const { webhook: _webhook, events: _events, ...visible } = p;
  const urls = { get: `${origin}/v1/predictions/${p.id}`, cancel: `${origin}/v1/predictions/${p.id}/cancel` };
  return { ...visible, urls, metrics: {} };
};
