import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { MediaStore, StoredMedia } from '#src/storage/mediaStore.ts';
import { checkStorageKey } from '#src/storage/storageKey.ts';

export type S3Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export type S3StoreOptions = {
  bucket: string;
  region?: string;
  /** An S3-compatible server (MinIO, Garage, R2...); AWS's own endpoint when absent. */
  endpoint?: string;
  /** `http://host/bucket/key` rather than `http://bucket.host/key`: what most S3-compatible servers want. */
  forcePathStyle?: boolean;
  /** The SDK's default chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE...) when absent. */
  credentials?: S3Credentials;
  /** Keys are stored under `<prefix>/` in the bucket. */
  prefix?: string;
};

export type S3MediaStore = MediaStore & { readonly bucket: string; close(): void };

const isMissingObject = (error: unknown): boolean =>
  error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound');

/**
 * The MediaStore port on an S3 bucket. A PUT is atomic by S3's own guarantee: an object is visible whole
 * or not at all. Against an S3-compatible endpoint, checksums are only sent where the API requires them
 * (not every server knows the SDK's default CRC32 headers).
 */
export const createS3Store = (options: S3StoreOptions): S3MediaStore => {
  const client = new S3Client({
    region: options.region ?? 'us-east-1',
    ...(options.endpoint === undefined
      ? {}
      : {
          endpoint: options.endpoint,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }),
    forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
  });
  const Bucket = options.bucket;
  const prefix = options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : '';
  const objectKey = (key: string) => prefix + checkStorageKey(key);

  return {
    bucket: Bucket,

    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({
          Bucket,
          Key: objectKey(key),
          Body: body,
          ContentType: contentType,
          ContentLength: body.length,
        }),
      );
    },

    async get(key): Promise<StoredMedia | undefined> {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket, Key: objectKey(key) }));
        if (!(answer.Body instanceof Readable))
          throw new Error('the S3 client answered without a body stream');
        return {
          body: answer.Body,
          size: answer.ContentLength ?? 0,
          contentType: answer.ContentType ?? 'application/octet-stream',
        };
      } catch (error) {
        if (isMissingObject(error)) return undefined;
        throw error;
      }
    },

    async exists(key) {
      try {
        await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
        return true;
      } catch (error) {
        if (isMissingObject(error)) return false;
        throw error;
      }
    },

    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
    },

    close() {
      client.destroy();
    },
  };
};
