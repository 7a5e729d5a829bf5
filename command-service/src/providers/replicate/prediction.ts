import { z } from 'zod';
import { contentTypeOf } from '#src/providers/contentTypes.ts';
import { failureFromText } from '#src/providers/errors.ts';
import { progressFromLogs, recentLogLines } from '#src/providers/logs.ts';
import type { ProviderOutput, ProviderStatus } from '#src/providers/port.ts';

/**
 * Replicate's prediction object (https://replicate.com/docs/reference/http#predictions.get), as far as
 * Kiln reads it. The same object is the body of every webhook.
 */
export const ReplicatePrediction = z.object({
  id: z.string().min(1),
  status: z.enum(['starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted']),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  logs: z.string().nullable().optional(),
});
export type ReplicatePrediction = z.infer<typeof ReplicatePrediction>;

const isUrl = (value: unknown): value is string => typeof value === 'string' && /^https?:\/\//.test(value);

/** Output is model-specific: a URL, a list of URLs, or an object holding them. Every URL found, in order. */
export const outputsOf = (output: unknown): ProviderOutput[] => {
  const urls: string[] = [];
  const visit = (value: unknown, depth: number) => {
    if (depth > 3) return;
    if (isUrl(value)) urls.push(value);
    else if (Array.isArray(value)) for (const item of value) visit(item, depth + 1);
    else if (value && typeof value === 'object')
      for (const item of Object.values(value)) visit(item, depth + 1);
  };
  visit(output, 0);
  return urls.map((url) => {
    const contentType = contentTypeOf(url);
    return contentType ? { url, contentType } : { url };
  });
};

const errorText = (error: unknown): string | undefined =>
  typeof error === 'string'
    ? error
    : error === undefined || error === null
      ? undefined
      : JSON.stringify(error);

export const statusOfPrediction = (prediction: ReplicatePrediction): ProviderStatus => {
  const logs = recentLogLines(prediction.logs);
  switch (prediction.status) {
    case 'starting':
      return { state: 'queued', logs };
    case 'processing': {
      const progress = progressFromLogs(logs);
      return { state: 'running', logs, step: 'processing', ...(progress === undefined ? {} : { progress }) };
    }
    case 'succeeded': {
      const outputs = outputsOf(prediction.output);
      return outputs.length > 0
        ? { state: 'succeeded', outputs }
        : { state: 'failed', code: 'output_invalid', retryable: false };
    }
    case 'failed':
      return { state: 'failed', ...failureFromText(errorText(prediction.error)) };
    case 'aborted':
      return { state: 'failed', code: 'provider_unavailable', retryable: true };
    case 'canceled':
      return { state: 'canceled' };
  }
};
