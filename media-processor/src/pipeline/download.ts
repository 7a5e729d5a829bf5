import { invalidOutput, MediaFailure, outputTooLarge } from '#src/pipeline/failures.ts';

export type DownloadOptions = {
  /** For the whole download, headers and body. */
  timeoutMs: number;
  /** More bytes than this (declared or received) and the download stops: `output_too_large`. */
  maxBytes: number;
  /** The caller's own stop (a shutdown): its reason is thrown as is. */
  signal?: AbortSignal;
};

export type Downloaded = {
  bytes: Buffer;
  /** The Content-Type the server declared: a hint only, the bytes decide. */
  declaredType?: string;
};

const statusFailure = (status: number): MediaFailure =>
  new MediaFailure('download_failed', `the output's server answered HTTP ${status}`, {
    retryable: status === 408 || status === 429 || status >= 500,
  });

/** Reads a body chunk by chunk and gives up as soon as it passes `maxBytes`, without reading the rest. */
const readAtMost = async (body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Buffer> => {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, received);
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel().catch(() => {});
      throw outputTooLarge(`the output is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
};

/**
 * Fetches one output over http or https, with a time limit over the whole exchange and a cap on its size
 * that holds for a declared Content-Length and for the bytes as they stream in: past the cap the connection
 * is dropped. Failures are MediaFailures: `output_too_large`, `download_failed` (retryable for timeouts,
 * network errors, 408, 429 and 5xx) and `output_invalid` for a URL that is not http(s).
 */
export const download = async (url: string, options: DownloadOptions): Promise<Downloaded> => {
  const target = URL.canParse(url) ? new URL(url) : undefined;
  if (target?.protocol !== 'http:' && target?.protocol !== 'https:') {
    throw invalidOutput('an output is fetched from an http or https URL only');
  }
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const stop = new AbortController();
  const signal = AbortSignal.any([timeout, stop.signal, ...(options.signal ? [options.signal] : [])]);
  try {
    const response = await fetch(target, { signal, headers: { accept: 'image/*, video/*' } });
    if (!response.ok) throw statusFailure(response.status);
    const declaredLength = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declaredLength > options.maxBytes) {
      throw outputTooLarge(`the output declares ${declaredLength} bytes, more than ${options.maxBytes}`);
    }
    const bytes = response.body ? await readAtMost(response.body, options.maxBytes) : Buffer.alloc(0);
    const declaredType = response.headers.get('content-type');
    return declaredType ? { bytes, declaredType } : { bytes };
  } catch (error) {
    if (error instanceof MediaFailure) throw error;
    options.signal?.throwIfAborted();
    if (timeout.aborted) {
      throw new MediaFailure('download_failed', `the output did not arrive within ${options.timeoutMs} ms`, {
        retryable: true,
        cause: error,
      });
    }
    throw new MediaFailure('download_failed', 'the output could not be fetched', {
      retryable: true,
      cause: error,
    });
  } finally {
    // Whatever is still unread (an answer refused before its body) is dropped with its connection.
    stop.abort();
  }
};
