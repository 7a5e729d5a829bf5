import type { z } from 'zod';
import { errorFromNetwork, errorFromResponse, malformedAnswer } from '#src/providers/errors.ts';

export type ProviderRequest = {
  method: 'GET' | 'POST' | 'PUT';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal | undefined;
  /** Non-2xx statuses whose body the API documents (fal's 400 ALREADY_COMPLETED...), read instead of thrown. */
  accept?: readonly number[];
};

export type ProviderAnswer<T> = { status: number; headers: Headers; body: T };

/** Longest answer body read; a provider's JSON answers are small, so anything longer is not one of them. */
const MAX_BODY_CHARS = 2_000_000;

const send = async (request: ProviderRequest): Promise<Response> => {
  try {
    return await fetch(request.url, {
      method: request.method,
      headers: {
        accept: 'application/json',
        ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...request.headers,
      },
      ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
      ...(request.signal ? { signal: request.signal } : {}),
    });
  } catch (error) {
    throw errorFromNetwork(error);
  }
};

const readText = async (response: Response): Promise<string> => {
  try {
    const text = await response.text();
    return text.length > MAX_BODY_CHARS ? '' : text;
  } catch (error) {
    throw errorFromNetwork(error);
  }
};

/**
 * One call to a provider's JSON API. Every failure becomes a ProviderError in Kiln's words: network and
 * abort errors, non-2xx answers (with Retry-After), and 2xx answers that are not JSON of the expected shape.
 */
export const callProvider = async <S extends z.ZodType>(
  schema: S,
  request: ProviderRequest,
): Promise<ProviderAnswer<z.infer<S>>> => {
  const response = await send(request);
  const text = await readText(response);
  if (!response.ok && !request.accept?.includes(response.status)) {
    throw errorFromResponse(response.status, response.headers, text);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformedAnswer();
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw malformedAnswer();
  return { status: response.status, headers: response.headers, body: parsed.data };
};

/** A base URL without its trailing slashes, so paths can be appended with one. */
export const trimBase = (url: string): string => url.replace(/\/+$/, '');

/** Headers as given to readWebhook, with lower-case names (Node gives them so; other callers may not). */
export const lowerCaseHeaders = (headers: Record<string, string | undefined>): Record<string, string> => {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) lower[name.toLowerCase()] = value;
  return lower;
};
