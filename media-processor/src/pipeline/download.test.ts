import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { download } from '#src/pipeline/download.ts';
import { MediaFailure } from '#src/pipeline/failures.ts';
import {
  hang,
  serveBytes,
  startFileServer,
  streamBytes,
  type FileServer,
} from '#src/pipeline/testing/fileServer.ts';

const MB = 1024 * 1024;
const failureOf = async (promise: Promise<unknown>): Promise<MediaFailure> => {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(MediaFailure);
  return error as MediaFailure;
};

describe('download', () => {
  const undeclared = streamBytes(20 * MB, { declareLength: false });
  const declared = streamBytes(20 * MB, { declareLength: true });
  const small = Buffer.from('a small file');
  let server: FileServer;

  beforeAll(async () => {
    server = await startFileServer({
      '/small': serveBytes(small, 'image/png'),
      '/stream-20mb': undeclared.route,
      '/declared-20mb': declared.route,
      '/gzip-bomb': (_request, response) =>
        void response
          .writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'image/png' })
          .end(gzipSync(Buffer.alloc(50 * MB))),
      '/hang': hang({ afterHeaders: false }),
      '/hang-in-body': hang({ afterHeaders: true }),
      '/gone': (_request, response) => void response.writeHead(410).end(),
      '/busy': (_request, response) => void response.writeHead(503).end(),
      '/redirect': (_request, response) => void response.writeHead(302, { location: '/small' }).end(),
    });
  });
  afterAll(() => server.close());

  const options = { timeoutMs: 2_000, maxBytes: 5 * MB };

  it('fetches a body with its declared type', async () => {
    const { bytes, declaredType } = await download(server.url('/small'), options);
    expect(bytes.equals(small)).toBe(true);
    expect(declaredType).toBe('image/png');
    expect((await download(server.url('/redirect'), options)).bytes.equals(small)).toBe(true);
  });

  it('stops a 20 MB stream past maxBytes (5 MB) and drops the connection before the server sends it all', async () => {
    const failure = await failureOf(download(server.url('/stream-20mb'), options));
    expect(failure).toMatchObject({ code: 'output_too_large', retryable: false });
    await undeclared.report.finished;
    expect(undeclared.report.clientLeftEarly).toBe(true);
    expect(undeclared.report.written).toBeLessThan(12 * MB);
    console.info(
      `20 MB stream, maxBytes 5 MB: the server wrote ${undeclared.report.written} bytes before the client left`,
    );
  });

  it('refuses a declared Content-Length past maxBytes before reading the body', async () => {
    const failure = await failureOf(download(server.url('/declared-20mb'), options));
    expect(failure.code).toBe('output_too_large');
    expect(failure.message).toContain(String(20 * MB));
    await declared.report.finished;
    expect(declared.report.clientLeftEarly).toBe(true);
    expect(declared.report.written).toBeLessThan(12 * MB);
  });

  it('counts the decoded bytes of a compressed answer, so a gzip bomb is capped too', async () => {
    const failure = await failureOf(download(server.url('/gzip-bomb'), options));
    expect(failure.code).toBe('output_too_large');
  });

  it.each(['/hang', '/hang-in-body'])(
    'gives up on %s after the timeout, as a retryable download failure',
    async (path) => {
      const started = performance.now();
      const failure = await failureOf(download(server.url(path), { ...options, timeoutMs: 300 }));
      expect(failure).toMatchObject({ code: 'download_failed', retryable: true });
      expect(failure.message).toContain('300 ms');
      expect(performance.now() - started).toBeLessThan(2_000);
    },
  );

  it('tells an error answer that may pass (503) from one that will not (410)', async () => {
    expect(await failureOf(download(server.url('/busy'), options))).toMatchObject({
      code: 'download_failed',
      retryable: true,
    });
    expect(await failureOf(download(server.url('/gone'), options))).toMatchObject({
      code: 'download_failed',
      retryable: false,
    });
  });

  it('answers a refused connection as a retryable download failure, without the URL in its message', async () => {
    const closed = await startFileServer({});
    const url = closed.url('/secret-token-in-path');
    await closed.close();
    const failure = await failureOf(download(url, options));
    expect(failure).toMatchObject({ code: 'download_failed', retryable: true });
    expect(failure.message).not.toContain('secret');
  });

  it.each(['file:///etc/passwd', 'data:image/png;base64,AAAA', 'ftp://example.com/a.png', 'not a url'])(
    'fetches nothing but http and https: %s',
    async (url) => {
      expect(await failureOf(download(url, options))).toMatchObject({
        code: 'output_invalid',
        retryable: false,
      });
    },
  );

  it("throws the caller's own abort reason as is", async () => {
    const controller = new AbortController();
    const stopping = download(server.url('/hang'), { ...options, signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(stopping).rejects.toThrow('shutting down');
  });
});
