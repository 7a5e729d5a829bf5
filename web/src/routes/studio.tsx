import { useState } from 'react';
import { data, Form, Link, redirect, useNavigation, useRouteLoaderData } from 'react-router';
import { findModel, type CatalogModel, type ModelKind } from '@kiln/contracts/catalog';
import type { JobView } from '@kiln/contracts/views';
import type { JobAccepted } from '@kiln/contracts/job/http';
import type { Route } from './+types/studio';
import { Field, ProblemMessage } from '../components.tsx';
import { useFormKey } from '../formKey.ts';
import { formText } from '../formText.ts';
import { credits } from '../format.ts';
import { browserUrlOf, kiln, type Problem } from '../server/kiln.server.ts';
import { requireUser } from '../server/session.server.ts';
import { JobCards } from '../jobs/JobCards.tsx';
import { isFinished } from '../jobs/status.ts';
import { useJobsFeed } from '../live.ts';
import type { loader as rootLoader } from '../root.tsx';
import { ACCEPTED_TYPES, chosenFiles, inputFilesProblem } from '../studio/inputFiles.ts';
import { initialValues, jobCost, readJobForm, type JobFormValues } from '../studio/jobForm.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Studio · Kiln' }];

type JobsPage = { items: JobView[]; next: string | null };

export const loader = async ({ request }: Route.LoaderArgs) => {
  await requireUser(request);
  const url = new URL(request.url);
  const services = kiln();
  // `after`: the position a job creation answered with, so the list already shows that job.
  const after = url.searchParams.get('after');
  const jobsQuery = new URLSearchParams({ limit: '20' });
  if (after) jobsQuery.set('after', after);
  const [models, jobs] = await Promise.all([
    services.command<CatalogModel[]>('/v1/models', { request }),
    services.query<JobsPage>(`/v1/jobs?${jobsQuery.toString()}`, { request }),
  ]);
  return {
    models: models.ok ? models.data : [],
    modelsProblem: models.ok ? null : models.problem,
    jobs: jobs.ok ? jobs.data.items : [],
    jobsProblem: jobs.ok ? null : jobs.problem,
    created: url.searchParams.get('created'),
    kind: url.searchParams.get('kind') === 'video' ? ('video' as const) : ('image' as const),
    // One key per form shown: a double submit or a retry of the same form creates one job, not two.
    idempotencyKey: crypto.randomUUID(),
    mediaUrl: browserUrlOf(services.urls.media, request.url),
  };
};

type Uploaded = { files: { fileId: string }[] };

/** The files chosen for the job, kept by the command service first (it checks them by their bytes). */
const uploadInputs = async (request: Request, files: File[]) => {
  const upload = new FormData();
  for (const file of files) upload.append('files', file, file.name);
  return kiln().command<Uploaded>('/v1/uploads', { method: 'POST', request, body: upload });
};

export const action = async ({ request }: Route.ActionArgs) => {
  const form = await request.formData();
  const values = readJobForm(form);
  const idempotencyKey = formText(form, 'idempotencyKey') || crypto.randomUUID();
  const failed = (problem: Problem, status: number) => {
    // The session ended meanwhile: sign in again, then back here.
    if (status === 401) throw redirect('/sign-in?next=%2Fstudio');
    // Nothing was created: the next try is a new request, with a new key.
    return data({ problem, values: values.form, idempotencyKey: crypto.randomUUID() }, { status });
  };
  const files = chosenFiles(form, 'inputs');
  let inputFileIds: string[] | undefined;
  if (files.length > 0) {
    const model = findModel(values.request.modelId);
    const problem = inputFilesProblem(files, model?.maxInputFiles ?? 0);
    if (problem)
      return failed({ status: 400, code: 'validation_failed', message: problem, correlationId: null }, 400);
    const uploaded = await uploadInputs(request, files);
    if (!uploaded.ok) return failed(uploaded.problem, uploaded.status);
    inputFileIds = uploaded.data.files.map((file) => file.fileId);
  }
  const answer = await kiln().command<JobAccepted>('/v1/jobs', {
    method: 'POST',
    request,
    headers: { 'idempotency-key': idempotencyKey },
    body: { request: values.request, ...(inputFileIds ? { inputFileIds } : {}) },
  });
  if (answer.ok) {
    const next = new URLSearchParams({ after: answer.data.position, created: answer.data.jobId });
    if (values.request.kind === 'video') next.set('kind', 'video');
    throw redirect(`/studio?${next.toString()}`);
  }
  return failed(answer.problem, answer.status);
};

function priceText(model: CatalogModel): string {
  if (model.kind === 'image') {
    return `${credits(model.pricing.perImage)} per image + ${credits(model.pricing.perMegapixel)} per megapixel`;
  }
  return `${credits(model.pricing.perSecond)} per second`;
}

function limitsText(model: CatalogModel): string {
  const size = `up to ${model.limits.maxWidth}×${model.limits.maxHeight}`;
  if (model.kind === 'image') return `${size}, ${model.limits.maxCount} per job`;
  return `${size}, ${model.limits.maxDurationSeconds} s at ${model.limits.maxFps} fps`;
}

function Catalog({ models }: { models: CatalogModel[] }) {
  return (
    <div className="table-scroll">
      <table className="catalog">
        <caption className="visually-hidden">Models, their prices and limits</caption>
        <thead>
          <tr>
            <th scope="col">Model</th>
            <th scope="col">Makes</th>
            <th scope="col">Price</th>
            <th scope="col">Limits</th>
          </tr>
        </thead>
        <tbody>
          {models.map((model) => (
            <tr key={model.id}>
              <th scope="row">
                {model.title}
                <span className="model-id">{model.id}</span>
              </th>
              <td data-label="Makes">{model.kind === 'image' ? 'images' : 'videos'}</td>
              <td data-label="Price">{priceText(model)}</td>
              <td data-label="Limits">{limitsText(model)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobList({ jobs, created, mediaUrl }: { jobs: JobView[]; created: string | null; mediaUrl: string }) {
  if (jobs.length === 0) return <p className="empty">No jobs yet: your first one will show here.</p>;
  return <JobCards jobs={jobs} label="My jobs" mediaUrl={mediaUrl} highlighted={created} />;
}

function NumberField(props: {
  name: keyof JobFormValues;
  label: string;
  min: number;
  max: number | undefined;
  value: string;
  required?: boolean;
}) {
  return (
    <Field name={props.name} label={props.label}>
      {(field) => (
        <input
          {...field}
          type="number"
          inputMode="numeric"
          min={props.min}
          max={props.max}
          step={1}
          required={props.required ?? true}
          defaultValue={props.value}
        />
      )}
    </Field>
  );
}

/** Input images for models that take them; the browser refuses too many or too large before sending. */
function InputFilesField({ allowed }: { allowed: number }) {
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <Field
      name="inputs"
      label="Input images (optional)"
      error={problem ?? undefined}
      hint={`PNG, JPEG, WebP or GIF; up to ${allowed} ${allowed === 1 ? 'file' : 'files'} of at most 10 MB each`}
    >
      {(props) => (
        <input
          {...props}
          type="file"
          multiple={allowed > 1}
          accept={ACCEPTED_TYPES.join(',')}
          onChange={(event) => {
            const input = event.currentTarget;
            const next = inputFilesProblem([...(input.files ?? [])], allowed);
            input.setCustomValidity(next ?? '');
            setProblem(next);
          }}
        />
      )}
    </Field>
  );
}

function CreateJob({
  kind,
  models,
  idempotencyKey,
  initial,
}: {
  kind: ModelKind;
  models: CatalogModel[];
  idempotencyKey: string;
  initial: JobFormValues | undefined;
}) {
  const ofKind = models.filter((model) => model.kind === kind);
  const [values, setValues] = useState<JobFormValues>(initial ?? initialValues(kind, ofKind[0]?.id ?? ''));
  const busy = useNavigation().state === 'submitting';
  const model = ofKind.find((candidate) => candidate.id === values.modelId);
  const cost = model ? jobCost(model, values) : null;

  if (ofKind.length === 0) return <p className="empty">No {kind} models are available right now.</p>;
  return (
    <Form
      method="post"
      encType="multipart/form-data"
      className="job-form"
      aria-describedby="job-cost"
      onChange={(event) => setValues(readJobForm(new FormData(event.currentTarget)).form)}
    >
      <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
      <input type="hidden" name="kind" value={kind} />
      <Field name="modelId" label="Model">
        {(props) => (
          <select {...props} defaultValue={values.modelId}>
            {ofKind.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.title}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field name="prompt" label="Prompt">
        {(props) => <textarea {...props} required maxLength={4000} rows={3} defaultValue={values.prompt} />}
      </Field>
      <div className="field-row">
        <NumberField name="width" label="Width" min={64} max={model?.limits.maxWidth} value={values.width} />
        <NumberField
          name="height"
          label="Height"
          min={64}
          max={model?.limits.maxHeight}
          value={values.height}
        />
        {kind === 'image' ? (
          <NumberField
            name="count"
            label="Images"
            min={1}
            max={model?.kind === 'image' ? model.limits.maxCount : undefined}
            value={values.count}
          />
        ) : (
          <>
            <NumberField
              name="durationSeconds"
              label="Seconds"
              min={1}
              max={model?.kind === 'video' ? model.limits.maxDurationSeconds : undefined}
              value={values.durationSeconds}
            />
            <NumberField
              name="fps"
              label="Frames per second"
              min={1}
              max={model?.kind === 'video' ? model.limits.maxFps : undefined}
              value={values.fps}
            />
          </>
        )}
        <NumberField
          name="seed"
          label="Seed (optional)"
          min={0}
          max={undefined}
          value={values.seed}
          required={false}
        />
      </div>
      {model && model.maxInputFiles > 0 && <InputFilesField allowed={model.maxInputFiles} />}
      <p id="job-cost" className="cost" aria-live="polite">
        {cost === null ? 'The cost shows once the request fits the model.' : `This costs ${credits(cost)}.`}
      </p>
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : kind === 'image' ? 'Create image' : 'Create video'}
      </button>
    </Form>
  );
}

export default function Studio({ loaderData, actionData }: Route.ComponentProps) {
  const { models, modelsProblem, jobs, jobsProblem, created, kind } = loaderData;
  const root = useRouteLoaderData<typeof rootLoader>('root');
  const formKey = useFormKey(loaderData.idempotencyKey, actionData?.idempotencyKey);
  useJobsFeed(
    root?.hubUrl ?? null,
    jobs.filter((job) => !isFinished(job.status)),
  );
  return (
    <div className="studio">
      <section className="panel" aria-labelledby="create-title">
        <h1 id="create-title">{kind === 'image' ? 'Create an image' : 'Create a video'}</h1>
        <nav aria-label="What to create" className="kind-switch">
          <Link to="/studio" aria-current={kind === 'image' ? 'page' : undefined}>
            Image
          </Link>
          <Link to="/studio?kind=video" aria-current={kind === 'video' ? 'page' : undefined}>
            Video
          </Link>
        </nav>
        <ProblemMessage problem={actionData?.problem} />
        <ProblemMessage problem={modelsProblem} />
        <CreateJob
          // A new key (after a success, or a refusal) starts the form afresh, from what was sent.
          key={`${kind}-${formKey}`}
          kind={kind}
          models={models}
          idempotencyKey={formKey}
          initial={actionData?.values.kind === kind ? actionData.values : undefined}
        />
      </section>
      <section className="panel" aria-labelledby="jobs-title">
        <h2 id="jobs-title">My jobs</h2>
        {created && (
          <p className="message success" role="status">
            Your job was created.
          </p>
        )}
        <ProblemMessage problem={jobsProblem} />
        <JobList jobs={jobs} created={created} mediaUrl={loaderData.mediaUrl} />
      </section>
      <section className="panel" aria-labelledby="catalog-title">
        <h2 id="catalog-title">Models and prices</h2>
        <Catalog models={models} />
      </section>
    </div>
  );
}
