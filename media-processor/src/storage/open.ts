import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createLocalDirectoryStore } from '#src/storage/localDirectory.ts';
import type { MediaStore } from '#src/storage/mediaStore.ts';
import { createS3Store, type S3Credentials, type S3StoreOptions } from '#src/storage/s3.ts';

export type OpenedMediaStore = MediaStore & {
  /** Where the files go, for a log line (no credentials in it). */
  readonly description: string;
  close(): void;
};

const credentialsFrom = (env: NodeJS.ProcessEnv): S3Credentials | undefined => {
  const accessKeyId = env['AWS_ACCESS_KEY_ID'];
  const secretAccessKey = env['AWS_SECRET_ACCESS_KEY'];
  if (!accessKeyId || !secretAccessKey) return undefined;
  const sessionToken = env['AWS_SESSION_TOKEN'];
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
};

/** `s3://bucket[/prefix]?endpoint=…&region=…&forcePathStyle=true|false` as the S3 adapter's options. */
export const s3OptionsFrom = (url: URL, env: NodeJS.ProcessEnv): S3StoreOptions => {
  if (!url.hostname)
    throw new Error('an s3:// media store names its bucket: s3://bucket?endpoint=…&region=…');
  const endpoint = url.searchParams.get('endpoint') ?? env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL'];
  const region = url.searchParams.get('region') ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'];
  const pathStyle = url.searchParams.get('forcePathStyle');
  const prefix = decodeURIComponent(url.pathname).replace(/^\/+|\/+$/g, '');
  const credentials = credentialsFrom(env);
  return {
    bucket: url.hostname,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(pathStyle === null ? {} : { forcePathStyle: pathStyle !== 'false' }),
    ...(prefix ? { prefix } : {}),
    ...(credentials ? { credentials } : {}),
  };
};

/**
 * The media store a setting names: a path or a `file:///…` URL is a local directory; `s3://bucket?…` an
 * S3-compatible bucket, with credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (or the SDK's
 * default chain). Any other scheme is refused, without echoing the setting (it may hold a secret). A local
 * directory is created if missing, so a path it cannot write to shows up at start; a bucket is not reached
 * until the first call.
 */
export const openMediaStore = async (
  spec: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<OpenedMediaStore> => {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(spec)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'file') {
    const store = createLocalDirectoryStore(scheme === 'file' ? fileURLToPath(spec) : spec);
    await mkdir(store.root, { recursive: true });
    return { ...store, description: `local directory ${store.root}`, close: () => {} };
  }
  if (scheme === 's3') {
    const options = s3OptionsFrom(new URL(spec), env);
    const store = createS3Store(options);
    const where = options.endpoint ? ` at ${new URL(options.endpoint).host}` : '';
    return { ...store, description: `S3 bucket ${options.bucket}${where}` };
  }
  throw new Error('a media store is a directory path, a file:/// URL or an s3://bucket?endpoint=… URL');
};
