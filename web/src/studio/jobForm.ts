// The job form, read the same way in the browser (for the cost shown before submitting) and on the server
// (for the request sent). The command service validates again and has the last word.
import { priceOf, requestProblems, type CatalogModel, type ModelKind } from '@kiln/contracts/catalog';
import type { GenerationRequest } from '@kiln/contracts/job/request';
import { formText as text } from '../formText.ts';

/** What the form holds, as typed: strings, so a half-typed number is kept as it is. */
export type JobFormValues = {
  kind: ModelKind;
  modelId: string;
  prompt: string;
  width: string;
  height: string;
  /** Images only. */
  count: string;
  /** Videos only. */
  durationSeconds: string;
  fps: string;
  seed: string;
};

export const initialValues = (kind: ModelKind, modelId: string): JobFormValues => ({
  kind,
  modelId,
  prompt: '',
  width: '512',
  height: '512',
  count: '1',
  durationSeconds: '2',
  fps: '12',
  seed: '',
});

/** A whole number typed in a field, or NaN (which the service refuses with a message for that field). */
const whole = (value: string): number =>
  /^\s*\d+\s*$/.test(value) ? Number.parseInt(value, 10) : Number.NaN;

export const readJobForm = (form: FormData): { form: JobFormValues; request: GenerationRequest } => {
  const kind: ModelKind = text(form, 'kind') === 'video' ? 'video' : 'image';
  const values: JobFormValues = {
    ...initialValues(kind, ''),
    modelId: text(form, 'modelId'),
    prompt: text(form, 'prompt'),
    width: text(form, 'width'),
    height: text(form, 'height'),
    seed: text(form, 'seed'),
  };
  const base = {
    modelId: values.modelId,
    prompt: values.prompt,
    width: whole(values.width),
    height: whole(values.height),
  };
  let request: GenerationRequest;
  if (kind === 'image') {
    values.count = text(form, 'count');
    request = { kind, ...base, count: whole(values.count) };
  } else {
    values.durationSeconds = text(form, 'durationSeconds');
    values.fps = text(form, 'fps');
    request = { kind, ...base, durationSeconds: whole(values.durationSeconds), fps: whole(values.fps) };
  }
  if (values.seed.trim() !== '') request.seed = whole(values.seed);
  return { form: values, request };
};

/** The credits the form's request costs with this model, or null while it is not a request the model takes. */
export const jobCost = (model: CatalogModel, values: JobFormValues): number | null => {
  const form = new FormData();
  for (const [name, value] of Object.entries(values)) form.set(name, value);
  const { request } = readJobForm(form);
  const numbers =
    request.kind === 'image'
      ? [request.width, request.height, request.count]
      : [request.width, request.height, request.durationSeconds, request.fps];
  if (!numbers.every((value) => Number.isInteger(value) && value >= 1)) return null;
  if (request.width < 64 || request.height < 64) return null;
  if (requestProblems(model, { ...request, prompt: request.prompt || 'x' }, 0).length > 0) return null;
  return priceOf(model, request);
};
