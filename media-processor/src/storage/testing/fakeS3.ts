import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for an S3-compatible server, in memory: path-style PutObject, GetObject, HeadObject and
 * DeleteObject on one bucket, with S3's XML errors. Enough to run the adapter through the real SDK over
 * HTTP where no S3 server can run; the real thing is tested when S3_ENDPOINT is set.
 */
export type FakeS3 = {
  endpoint: string;
  bucket: string;
  objects: Map<string, { body: Buffer; contentType: string }>;
  /** Every request seen: method, object key and its Authorization header. */
  requests: { method: string; key: string; authorization: string | undefined }[];
  close(): Promise<void>;
};

const xmlError = (code: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`;

const readBody = async (request: IncomingMessage): Promise<Buffer> =>
  Buffer.concat((await request.toArray()) as Buffer[]);

export const startFakeS3 = async (bucket = 'kiln-media'): Promise<FakeS3> => {
  const objects = new Map<string, { body: Buffer; contentType: string }>();
  const requests: FakeS3['requests'] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const path = new URL(request.url ?? '/', 'http://s3').pathname;
      const [, bucketName = '', ...rest] = path.split('/');
      const key = rest.map((segment) => decodeURIComponent(segment)).join('/');
      const method = request.method ?? 'GET';
      requests.push({ method, key, authorization: request.headers.authorization });
      const body = await readBody(request);
      if (bucketName !== bucket) {
        return void response
          .writeHead(404, { 'content-type': 'application/xml' })
          .end(xmlError('NoSuchBucket'));
      }
      const found = objects.get(key);
      if (method === 'PUT') {
        objects.set(key, { body, contentType: request.headers['content-type'] ?? 'binary/octet-stream' });
        return void response.writeHead(200, { etag: '"fake"' }).end();
      }
      if (method === 'DELETE') {
        objects.delete(key);
        return void response.writeHead(204).end();
      }
      if (!found) {
        if (method === 'HEAD') return void response.writeHead(404).end();
        return void response.writeHead(404, { 'content-type': 'application/xml' }).end(xmlError('NoSuchKey'));
      }
      response.writeHead(200, {
        'content-type': found.contentType,
        'content-length': found.body.length,
        etag: '"fake"',
        'last-modified': new Date(0).toUTCString(),
      });
      response.end(method === 'HEAD' ? undefined : found.body);
    })().catch(() => response.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    objects,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
