import { rm } from 'node:fs/promises';
import { Router, type RequestHandler } from 'express';
import { fileTypeFromFile } from 'file-type';
import multer from 'multer';
import type { InputFile } from '@kiln/contracts/job/request';
import { MAX_INPUT_FILES } from '@kiln/contracts/job/request';
import { ApiProblem } from '@kiln/contracts/http/problem';
import { userOf } from '@kiln/identity/http';
import { rateLimit, type RateLimiter } from '@kiln/service-kit/rate-limit';
import type { UploadStore } from '#src/adapters/uploadStore.ts';
import { routes } from '#src/http/contracts.ts';
import { userKey } from '#src/http/rateKeys.ts';
import type { Mount } from '#src/http/route.ts';

export const MAX_FILE_BYTES = 10 * 1024 * 1024;
const acceptedTypes: ReadonlySet<string> = new Set<InputFile['contentType']>([
  'image/png',
  'image/jpeg',
  'image/webp',
  'image/gif',
]);

/**
 * multer hands on busboy's errors (a multipart body it cannot read: no boundary, a malformed part header, an
 * early end) as plain Errors: those are the client's (400). Storage errors carry a `code` and stay 500s.
 */
const readingMultipart =
  (receive: RequestHandler): RequestHandler =>
  (req, res, next) => {
    void receive(req, res, (error?: unknown) => {
      if (error instanceof Error && !(error instanceof multer.MulterError) && !('code' in error)) {
        next(new ApiProblem('validation_failed', `the multipart body is not valid: ${error.message}`));
      } else next(error);
    });
  };

/**
 * `POST /v1/uploads`: multipart, field `files`, at most 14 files of 10 MB. Files stream to disk (never
 * all held in memory), and each one's type is read from its bytes, not its name or declared type.
 */
export const uploadRoutes = (deps: {
  mount: Mount;
  uploads: UploadStore;
  uploadLimiter: RateLimiter;
}): Router => {
  const router = Router();
  const receive = multer({
    dest: deps.uploads.incomingDir,
    limits: { fileSize: MAX_FILE_BYTES, files: MAX_INPUT_FILES, fields: 0, parts: MAX_INPUT_FILES },
  }).array('files', MAX_INPUT_FILES);

  deps.mount(
    router,
    routes.upload,
    [rateLimit(deps.uploadLimiter, userKey), readingMultipart(receive)],
    async (_input, req, res) => {
      const files = (req.files ?? []) as Express.Multer.File[];
      if (files.length === 0)
        throw new ApiProblem('validation_failed', 'send at least one file in the multipart field "files"');
      try {
        const detected = await Promise.all(
          files.map(async (file) => ({ file, type: await fileTypeFromFile(file.path) })),
        );
        const refused = detected.find(({ type }) => !type || !acceptedTypes.has(type.mime));
        if (refused) {
          throw new ApiProblem(
            'unsupported_media_type',
            `${refused.file.originalname || 'a file'} is not a PNG, JPEG, WebP or GIF image (judged by its bytes)`,
            { details: { file: refused.file.originalname, detected: refused.type?.mime ?? 'unknown' } },
          );
        }
        const user = userOf(res);
        const kept = [];
        for (const { file, type } of detected) {
          kept.push(
            await deps.uploads.keep(user.id, file.path, type?.mime as InputFile['contentType'], file.size),
          );
        }
        return { files: kept };
      } finally {
        await Promise.all(files.map((file) => rm(file.path, { force: true })));
      }
    },
  );
  return router;
};
