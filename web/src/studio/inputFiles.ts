// The input files a job may take, checked the same way in the browser (before anything is sent) and on
// the server (before the upload): the command service checks again, by the files' bytes.
import { MAX_INPUT_FILES } from '@kiln/contracts/job/request';

export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const ACCEPTED_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif'] as const;

type Chosen = { name: string; size: number };

/** Why these files cannot go with a job of a model taking `allowed` of them, or null when they can. */
export const inputFilesProblem = (files: readonly Chosen[], allowed: number): string | null => {
  const limit = Math.min(allowed, MAX_INPUT_FILES);
  if (files.length > limit) {
    return limit === 0
      ? 'This model takes no input files.'
      : `This model takes at most ${limit} input ${limit === 1 ? 'file' : 'files'}; you chose ${files.length}.`;
  }
  const tooBig = files.find((file) => file.size > MAX_FILE_BYTES);
  if (tooBig) return `${tooBig.name} is larger than 10 MB.`;
  const empty = files.find((file) => file.size === 0);
  if (empty) return `${empty.name} is empty.`;
  return null;
};

/** The files a submitted form carries in `field` (a file input left empty sends one nameless, empty part). */
export const chosenFiles = (form: FormData, field: string): File[] =>
  form.getAll(field).filter((value): value is File => typeof value !== 'string' && value.name !== '');
