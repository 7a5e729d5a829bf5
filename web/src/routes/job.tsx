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
import type { JobView } from '@kiln/contracts/views';
import type { DeliveredEvent } from '@kiln/contracts/realtime';
import type { Route } from './+types/job';
import { ProblemMessage } from '../components.tsx';
import { timeText } from '../format.ts';
import { applyJobEvent } from '../jobs/liveJob.ts';
import { activityText } from '../jobs/activity.ts';
import { mediaPath } from '../jobs/media.ts';
import { isFinished, statusLabel } from '../jobs/status.ts';
import { useJobFeed } from '../live.ts';
import type { loader as rootLoader } from '../root.tsx';
import { browserUrlOf, kiln, serviceUrls, type Problem } from '../server/kiln.server.ts';
import { requireUser } from '../server/session.server.ts';

type JobCancelAccepted = { jobId: string; status: 'cancel_requested' | 'canceled'; position: string | null };

export const meta: Route.MetaFunction = ({ loaderData }) => [
  { title: loaderData ? `${loaderData.job.request.prompt} · Kiln` : 'Job · Kiln' },
];

export const loader = async ({ request, params }: Route.LoaderArgs) => {
  await requireUser(request);
  // `after`: the position a cancel (or an event seen live) answered with, so the job already shows it.
  const after = new URL(request.url).searchParams.get('after');
  const query = after ? `?${new URLSearchParams({ after }).toString()}` : '';
  const answer = await kiln().query<JobView>(`/v1/jobs/${encodeURIComponent(params.jobId)}${query}`, {
    request,
  });
  if (answer.status === 404) throw new Response('You have no job with this id.', { status: 404 });
  if (!answer.ok) throw new Response(answer.problem.message, { status: answer.status });
  return { job: answer.data, mediaUrl: browserUrlOf(serviceUrls().media, request.url) };
};

export const action = async ({ request, params }: Route.ActionArgs) => {
  const jobId = encodeURIComponent(params.jobId);
  const path = `/jobs/${jobId}`;
  const answer = await kiln().command<JobCancelAccepted>(`/v1/jobs/${jobId}/cancel`, {
    method: 'POST',
    request,
    body: {},
  });
  if (answer.ok) {
    throw redirect(answer.data.position ? `${path}?after=${encodeURIComponent(answer.data.position)}` : path);
  }
  if (answer.status === 401) throw redirect(`/sign-in?next=${encodeURIComponent(path)}`);
  return data({ problem: answer.problem }, { status: answer.status });
};

const progressLabel = (job: JobView) =>
  job.status === 'completed' ? 'Done' : (job.step ?? 'Waiting for a provider');

const secondsBetween = (from: string, to: string) =>
  `${((Date.parse(to) - Date.parse(from)) / 1000).toLocaleString('en', { maximumFractionDigits: 1 })} s`;

function Timings({ job }: { job: JobView }) {
  return (
    <dl className="timings">
      <dt>Requested</dt>
      <dd>
        <time dateTime={job.requestedAt}>{timeText(job.requestedAt)}</time>
      </dd>
      {job.submittedAt && (
        <>
          <dt>Sent to {job.provider ?? 'the provider'}</dt>
          <dd>
            <time dateTime={job.submittedAt}>{timeText(job.submittedAt)}</time> (after{' '}
            {secondsBetween(job.requestedAt, job.submittedAt)})
          </dd>
        </>
      )}
      {job.finishedAt && (
        <>
          <dt>Finished</dt>
          <dd>
            <time dateTime={job.finishedAt}>{timeText(job.finishedAt)}</time> (took{' '}
            {secondsBetween(job.requestedAt, job.finishedAt)})
          </dd>
        </>
      )}
    </dl>
  );
}

function Outputs({ job, mediaUrl }: { job: JobView; mediaUrl: string }) {
  const indexes = [...new Set(job.artifacts.map((artifact) => artifact.outputIndex))].sort((a, b) => a - b);
  if (indexes.length === 0) return null;
  return (
    <section aria-labelledby="outputs-title">
      <h2 id="outputs-title">{indexes.length === 1 ? 'Output' : 'Outputs'}</h2>
      <ul className="outputs">
        {indexes.map((index) => {
          const ofOutput = job.artifacts.filter((artifact) => artifact.outputIndex === index);
          const picture =
            ofOutput.find((artifact) => artifact.variant === 'thumbnail') ??
            ofOutput.find((artifact) => artifact.variant === 'poster');
          const preview = ofOutput.find((artifact) => artifact.variant === 'preview');
          const original = ofOutput.find((artifact) => artifact.variant === 'original');
          const label = `${job.kind === 'image' ? 'Image' : 'Video'} ${index + 1}`;
          return (
            <li key={index} className="output">
              {picture && (
                <a href={mediaPath(mediaUrl, job.jobId, index, preview ? 'preview' : picture.variant)}>
                  <img
                    src={mediaPath(mediaUrl, job.jobId, index, picture.variant)}
                    width={picture.width}
                    height={picture.height}
                    alt={`${label}: ${job.request.prompt}`}
                  />
                </a>
              )}
              {original && (
                <a className="button" href={mediaPath(mediaUrl, job.jobId, index, 'original')} download>
                  Download {label.toLowerCase()} ({original.width}×{original.height})
                </a>
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function CancelForm({ problem }: { problem: Problem | undefined }) {
  const busy = useNavigation().state === 'submitting';
  return (
    <Form method="post" className="cancel-form">
      <ProblemMessage problem={problem} />
      <button type="submit" className="danger" disabled={busy}>
        {busy ? 'Canceling…' : 'Cancel job'}
      </button>
    </Form>
  );
}

/** The job as loaded, moved on by the events the hub delivers; a newer load takes over. */
function useLiveJob(loaded: JobView, hubUrl: string | null) {
  const navigate = useNavigate();
  const [live, setLive] = useState({ from: loaded, job: loaded });
  // Every event this page was handed, in order: what a person sees happen, and what a test counts.
  const [activity, setActivity] = useState<DeliveredEvent[]>([]);
  let current = live;
  if (live.from !== loaded) {
    current = { from: loaded, job: loaded.position >= live.job.position ? loaded : live.job };
    setLive(current);
  }
  const onEvent = (event: DeliveredEvent) => {
    setActivity((seen) => [...seen, event]);
    setLive((state) => ({ from: state.from, job: applyJobEvent(state.job, event).job }));
    // The artifacts are in the read model from this event on: read the page again, waiting for it.
    if (applyJobEvent(current.job, event).reload) {
      const again = `/jobs/${encodeURIComponent(loaded.jobId)}?after=${encodeURIComponent(event.position)}`;
      void navigate(again, { replace: true, preventScrollReset: true });
    }
  };
  const feed = useJobFeed(isFinished(loaded.status) ? null : hubUrl, loaded.jobId, loaded.position, onEvent);
  return { job: current.job, feed, activity };
}

function Activity({ events }: { events: DeliveredEvent[] }) {
  if (events.length === 0) return null;
  return (
    <section aria-labelledby="activity-title">
      <h2 id="activity-title">As it happened</h2>
      <ol className="job-activity" aria-labelledby="activity-title">
        {events.map((event) => (
          <li key={event.position} data-position={event.position} data-type={event.type}>
            <time dateTime={event.metadata.at}>{timeText(event.metadata.at).slice(12)}</time>{' '}
            {activityText(event)}
          </li>
        ))}
      </ol>
    </section>
  );
}

function JobPage({
  loaded,
  mediaUrl,
  problem,
}: {
  loaded: JobView;
  mediaUrl: string;
  problem: Problem | undefined;
}) {
  const root = useRouteLoaderData<typeof rootLoader>('root');
  const { job, feed, activity } = useLiveJob(loaded, root?.hubUrl ?? null);
  const percent = Math.round(job.progress * 100);
  return (
    <article className="panel job-page" aria-labelledby="job-title" data-job-id={job.jobId}>
      <p>
        <Link to="/studio">
          <span aria-hidden="true">← </span>My jobs
        </Link>
      </p>
      <h1 id="job-title">{job.request.prompt}</h1>
      <p className="hint">
        <Link to={`/jobs/${encodeURIComponent(job.jobId)}/timeline`}>Timeline: every event of this job</Link>
      </p>
      <p className="job-meta">
        <span className={`badge badge-${job.status}`} role="status" data-testid="job-status">
          {statusLabel[job.status]}
        </span>
        <span>{job.modelId}</span>
        <span>
          {job.cost.toLocaleString('en')} {job.cost === 1 ? 'credit' : 'credits'}
        </span>
        {(feed === 'live' || feed === 'reconnecting') && (
          <span className={`live live-${feed}`} data-testid="job-feed">
            {feed === 'live' ? 'live' : 'reconnecting…'}
          </span>
        )}
      </p>
      <div className="job-progress">
        <label htmlFor="job-progress">{progressLabel(job)}</label>
        <progress id="job-progress" value={job.progress} max={1}>
          {percent}%
        </progress>
        <span aria-hidden="true">{percent}%</span>
        {job.queuePosition !== null && (
          <p className="hint">Place in the provider’s queue: {job.queuePosition + 1}</p>
        )}
      </div>
      {job.failure && (
        <p className="message error" role="alert">
          {job.failure.message}
        </p>
      )}
      {!isFinished(job.status) && job.status !== 'cancel_requested' && <CancelForm problem={problem} />}
      {isFinished(job.status) && <ProblemMessage problem={problem} />}
      <Outputs job={job} mediaUrl={mediaUrl} />
      <Activity events={activity} />
      <section aria-labelledby="timings-title">
        <h2 id="timings-title">Timings</h2>
        <Timings job={job} />
      </section>
      <section aria-labelledby="logs-title">
        <h2 id="logs-title">Provider log</h2>
        {job.logs.length === 0 ? (
          <p className="empty">Nothing from the provider yet.</p>
        ) : (
          <ol className="job-logs" aria-labelledby="logs-title">
            {job.logs.map((line, index) => (
              <li key={`${index}-${line}`}>
                <code>{line}</code>
              </li>
            ))}
          </ol>
        )}
      </section>
    </article>
  );
}

export default function Job({ loaderData, actionData }: Route.ComponentProps) {
  // One job's page per job: moving to another job starts its own live state and subscription.
  return (
    <JobPage
      key={loaderData.job.jobId}
      loaded={loaderData.job}
      mediaUrl={loaderData.mediaUrl}
      problem={actionData?.problem}
    />
  );
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  const notYours = isRouteErrorResponse(error) && error.status === 404;
  const message =
    isRouteErrorResponse(error) && typeof error.data === 'string' && error.data !== ''
      ? error.data
      : 'This job cannot be shown right now. Try again in a moment.';
  return (
    <section className="panel" aria-labelledby="error-title">
      <h1 id="error-title">{notYours ? 'Job not found' : 'Something went wrong'}</h1>
      <p className="message error" role="alert">
        {message}
      </p>
      <p>
        <Link to="/studio">Back to the studio</Link>
      </p>
    </section>
  );
}
