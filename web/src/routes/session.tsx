import { useState } from 'react';
import {
  data,
  Form,
  isRouteErrorResponse,
  Link,
  redirect,
  useNavigate,
  useNavigation,
  useRouteLoaderData,
} from 'react-router';
import type { CatalogModel } from '@kiln/contracts/catalog';
import type { JobAccepted } from '@kiln/contracts/job/http';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import type { JobView, SessionView } from '@kiln/contracts/views';
import type { Route } from './+types/session';
import { Field, ProblemMessage } from '../components.tsx';
import { credits, timeText } from '../format.ts';
import { useFormKey } from '../formKey.ts';
import { formText } from '../formText.ts';
import { JobCards } from '../jobs/JobCards.tsx';
import { applyJobEvent } from '../jobs/liveJob.ts';
import { useSessionFeed, type FeedStatus, type Watcher } from '../live.ts';
import type { loader as rootLoader } from '../root.tsx';
import { browserUrlOf, kiln, type Problem } from '../server/kiln.server.ts';
import { requireUser } from '../server/session.server.ts';
import { initialValues, jobCost, readJobForm } from '../studio/jobForm.ts';
import { InviteLink } from '../sessions/InviteLink.tsx';

type SessionWithJobs = SessionView & { jobs: JobView[] };
type MembersPage = {
  items: { userId: string; displayName: string; joinedAt: string }[];
  next: string | null;
};
type InviteCreated = { inviteId: string; token: string; expiresAt: string };
type Changed = { position?: string | null };

export const meta: Route.MetaFunction = ({ loaderData }) => [
  { title: loaderData ? `${loaderData.session.title} · Kiln` : 'Shared session · Kiln' },
];

export const loader = async ({ request, params }: Route.LoaderArgs) => {
  const user = await requireUser(request);
  const after = new URL(request.url).searchParams.get('after');
  const query = after ? `?${new URLSearchParams({ after }).toString()}` : '';
  const services = kiln();
  const id = encodeURIComponent(params.sessionId);
  const [session, members, models] = await Promise.all([
    services.query<SessionWithJobs>(`/v1/sessions/${id}${query}`, { request }),
    services.query<MembersPage>(`/v1/sessions/${id}/members?limit=100`, { request }),
    services.command<CatalogModel[]>('/v1/models', { request }),
  ]);
  if (session.status === 404) throw new Response('You are not in a session with this id.', { status: 404 });
  if (!session.ok) throw new Response(session.problem.message, { status: session.status });
  return {
    me: user.id,
    session: session.data,
    members: members.ok ? members.data.items : [],
    models: models.ok ? models.data : [],
    mediaUrl: browserUrlOf(services.urls.media, request.url),
    idempotencyKey: crypto.randomUUID(),
  };
};

const backTo = (sessionId: string, position: string | null | undefined) =>
  `/sessions/${encodeURIComponent(sessionId)}${position ? `?after=${encodeURIComponent(position)}` : ''}`;

export const action = async ({ request, params }: Route.ActionArgs) => {
  const form = await request.formData();
  const services = kiln();
  const id = encodeURIComponent(params.sessionId);
  const intent = formText(form, 'intent');
  const failed = (problem: Problem, status: number) => {
    if (status === 401)
      throw redirect(`/sign-in?next=${encodeURIComponent(`/sessions/${params.sessionId}`)}`);
    return data({ intent, problem, invite: null }, { status });
  };
  if (intent === 'invite') {
    const answer = await services.command<InviteCreated>(`/v1/sessions/${id}/invites`, {
      method: 'POST',
      request,
      body: {},
    });
    if (!answer.ok) return failed(answer.problem, answer.status);
    const link = new URL(
      `/join?${new URLSearchParams({ token: answer.data.token }).toString()}`,
      request.url,
    );
    return { intent, problem: null, invite: { link: link.toString(), expiresAt: answer.data.expiresAt } };
  }
  if (intent === 'leave') {
    const answer = await services.command<Changed>(`/v1/sessions/${id}/leave`, {
      method: 'POST',
      request,
      body: {},
    });
    if (!answer.ok) return failed(answer.problem, answer.status);
    throw redirect(
      answer.data.position ? `/sessions?after=${encodeURIComponent(answer.data.position)}` : '/sessions',
    );
  }
  // Add a job: the person who asks pays for it; it joins the session as it is recorded.
  const models = await services.command<CatalogModel[]>('/v1/models', { request });
  const model = models.ok
    ? models.data.find((candidate) => candidate.id === formText(form, 'modelId'))
    : undefined;
  const values = {
    ...initialValues(model?.kind ?? 'image', formText(form, 'modelId')),
    prompt: formText(form, 'prompt'),
  };
  const job = new FormData();
  for (const [name, value] of Object.entries(values)) job.set(name, value);
  const created = await services.command<JobAccepted>('/v1/jobs', {
    method: 'POST',
    request,
    headers: { 'idempotency-key': formText(form, 'idempotencyKey') || crypto.randomUUID() },
    body: { request: readJobForm(job).request, sessionId: params.sessionId },
  });
  if (!created.ok) return failed(created.problem, created.status);
  throw redirect(backTo(params.sessionId, created.data.position));
};

function AddJob({ models, idempotencyKey }: { models: CatalogModel[]; idempotencyKey: string }) {
  const [modelId, setModelId] = useState(models[0]?.id ?? '');
  const busy = useNavigation().state === 'submitting';
  const model = models.find((candidate) => candidate.id === modelId);
  const cost = model ? jobCost(model, { ...initialValues(model.kind, model.id), prompt: 'x' }) : null;
  return (
    <Form method="post" className="add-job-form">
      <input type="hidden" name="intent" value="add-job" />
      <input type="hidden" name="idempotencyKey" value={idempotencyKey} />
      <Field name="modelId" label="Model">
        {(props) => (
          <select {...props} value={modelId} onChange={(event) => setModelId(event.target.value)}>
            {models.map((candidate) => (
              <option key={candidate.id} value={candidate.id}>
                {candidate.title}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field name="prompt" label="Prompt" hint="512×512, one image (or two seconds of video)">
        {(props) => <input {...props} required maxLength={4000} />}
      </Field>
      <p className="cost">{cost === null ? '' : `This costs ${credits(cost)}, from your own credits.`}</p>
      <button type="submit" disabled={busy}>
        {busy ? 'Adding…' : 'Add a job'}
      </button>
    </Form>
  );
}

function Watching({ me, status, watchers }: { me: string; status: FeedStatus; watchers: Watcher[] }) {
  if (status === 'off') return null;
  const names = watchers.map((watcher) =>
    watcher.userId === me ? `${watcher.displayName} (you)` : watcher.displayName,
  );
  return (
    <p className="watching" data-testid="watchers">
      <span className={`live live-${status}`}>
        {status === 'live' ? 'live' : status === 'reconnecting' ? 'reconnecting…' : status}
      </span>{' '}
      {names.length === 0 ? 'Nobody is watching.' : `Watching now: ${names.join(', ')}`}
    </p>
  );
}

/** The session events that change what its page shows: a new job, someone joining or leaving. */
const sessionChanges = new Set(['SessionJobAdded', 'SessionMemberJoined', 'SessionMemberLeft']);

/** The session's jobs as loaded, moved on by the events the hub delivers; new jobs and members reload it. */
function useLiveSession(loaded: SessionWithJobs, hubUrl: string | null) {
  const navigate = useNavigate();
  const [live, setLive] = useState({ from: loaded, jobs: loaded.jobs });
  let jobs = live.jobs;
  if (live.from !== loaded) {
    jobs = loaded.jobs;
    setLive({ from: loaded, jobs });
  }
  const onEvent = (event: DeliveredEvent) => {
    const known = jobs.some((job) => job.jobId === event.data['jobId']);
    if (sessionChanges.has(event.type) || (!known && !event.streamId.startsWith('session-'))) {
      void navigate(backTo(loaded.sessionId, event.position), { replace: true, preventScrollReset: true });
      return;
    }
    setLive((state) => ({
      from: state.from,
      jobs: state.jobs.map((job) => applyJobEvent(job, event).job),
    }));
    if (jobs.some((job) => applyJobEvent(job, event).reload))
      void navigate(backTo(loaded.sessionId, event.position), { replace: true, preventScrollReset: true });
  };
  const feed = useSessionFeed(hubUrl, loaded.sessionId, loaded.position, onEvent);
  return { jobs, ...feed };
}

export default function Session({ loaderData, actionData }: Route.ComponentProps) {
  const { session, members, models, mediaUrl } = loaderData;
  const root = useRouteLoaderData<typeof rootLoader>('root');
  const formKey = useFormKey(loaderData.idempotencyKey, undefined);
  const { jobs, status, watchers } = useLiveSession(session, root?.hubUrl ?? null);
  // An invite link stays on the page when it reloads its data (someone joins, a job is added).
  const [invite, setInvite] = useState(actionData?.invite ?? null);
  if (actionData?.invite && actionData.invite !== invite) setInvite(actionData.invite);
  return (
    <div className="session-page" data-session-id={session.sessionId}>
      <section className="panel" aria-labelledby="session-title">
        <p>
          <Link to="/sessions">
            <span aria-hidden="true">← </span>Shared sessions
          </Link>
        </p>
        <h1 id="session-title">{session.title}</h1>
        <Watching me={loaderData.me} status={status} watchers={watchers} />
        <ProblemMessage problem={actionData?.problem} />
        <InviteLink invite={invite} />
        <p>
          <Link to={`/sessions/${encodeURIComponent(session.sessionId)}/timeline`}>
            Timeline of the session
          </Link>
        </p>
      </section>
      <section className="panel" aria-labelledby="session-jobs-title">
        <h2 id="session-jobs-title">Jobs</h2>
        <AddJob key={formKey} models={models} idempotencyKey={formKey} />
        {jobs.length === 0 ? (
          <p className="empty">No jobs in this session yet.</p>
        ) : (
          <JobCards jobs={jobs} label="Jobs of the session" mediaUrl={mediaUrl} />
        )}
      </section>
      <section className="panel" aria-labelledby="members-title">
        <h2 id="members-title">Members ({session.memberCount.toLocaleString('en')})</h2>
        <ul className="members" aria-labelledby="members-title">
          {members.map((member) => (
            <li key={member.userId}>
              {member.displayName}
              {member.userId === session.ownerId ? ' (opened it)' : ''}{' '}
              <span className="hint">since {timeText(member.joinedAt)}</span>
            </li>
          ))}
        </ul>
        <Form method="post">
          <input type="hidden" name="intent" value="leave" />
          <button type="submit" className="secondary">
            Leave the session
          </button>
        </Form>
      </section>
    </div>
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  const missing = isRouteErrorResponse(error) && error.status === 404;
  const message =
    isRouteErrorResponse(error) && typeof error.data === 'string' && error.data !== ''
      ? error.data
      : 'This session cannot be shown right now. Try again in a moment.';
  return (
    <section className="panel" aria-labelledby="error-title">
      <h1 id="error-title">{missing ? 'Session not found' : 'Something went wrong'}</h1>
      <p className="message error" role="alert">
        {message}
      </p>
      <p>
        <Link to="/sessions">Your sessions</Link>
      </p>
    </section>
  );
}
