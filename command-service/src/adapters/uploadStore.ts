import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputFile } from '@kiln/contracts/job/request';
import { DomainError } from '#src/domain/errors.ts';

const sha256Of = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

/**
 * Input files of jobs, in a local directory (`MEDIA_DIR/inputs/<userId>/<fileId>`, with a JSON sidecar
 * describing it). A user can only refer to their own uploads.
 */
export const createUploadStore = (mediaDir: string) => {
  const folderOf = (userId: string) => join(mediaDir, 'inputs', userId);

  return {
    /** Where multer may put a file while it arrives. */
    incomingDir: join(mediaDir, 'incoming'),

    async ensureFolders(): Promise<void> {
      await mkdir(join(mediaDir, 'incoming'), { recursive: true });
      await mkdir(join(mediaDir, 'inputs'), { recursive: true });
    },

    /** Takes a checked file from the incoming folder into the user's uploads. */
    async keep(
      userId: string,
      incomingPath: string,
      contentType: InputFile['contentType'],
      size: number,
    ): Promise<InputFile> {
      const fileId = `f_${randomUUID().replaceAll('-', '')}`;
      const folder = folderOf(userId);
      await mkdir(folder, { recursive: true });
      const file: InputFile = { fileId, contentType, size, sha256: await sha256Of(incomingPath) };
      await rename(incomingPath, join(folder, fileId));
      await writeFile(join(folder, `${fileId}.json`), JSON.stringify(file));
      return file;
    },

    /** An upload as a data: URL, the way providers accept input images. */
    async dataUrl(userId: string, file: InputFile): Promise<string> {
      const bytes = await readFile(join(folderOf(userId), file.fileId));
      return `data:${file.contentType};base64,${bytes.toString('base64')}`;
    },

    /** The user's uploads by id, in the order asked; an unknown id (or someone else's) is refused. */
    async resolve(userId: string, fileIds: readonly string[]): Promise<InputFile[]> {
      return Promise.all(
        fileIds.map(async (fileId) => {
          try {
            return InputFile.parse(
              JSON.parse(await readFile(join(folderOf(userId), `${fileId}.json`), 'utf8')),
            );
          } catch {
            throw new DomainError('invalid_request', `no uploaded file ${fileId}; upload it first`, {
              fileId,
            });
          }
        }),
      );
    },
  };
};

export type UploadStore = ReturnType<typeof createUploadStore>;
