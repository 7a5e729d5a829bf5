import type { JobView } from '@kiln/contracts/views';
import type { SessionTimelineState } from '@kiln/contracts/views/timeline';
import { statusLabel } from '../jobs/status.ts';

/** A job as it was at one step of its timeline. */
export function JobState({ job }: { job: JobView | null }) {
  if (!job) return <p className="empty">Not requested yet.</p>;
  return (
    <dl className="state">
      <dt>Status</dt>
      <dd data-testid="state-status">{statusLabel[job.status]}</dd>
      <dt>Progress</dt>
      <dd>
        {Math.round(job.progress * 100)}%{job.step ? ` (${job.step})` : ''}
      </dd>
      <dt>Provider</dt>
      <dd>
        {job.provider ?? 'not yet chosen'}
        {job.attempts > 0 ? `, attempt ${job.attempts}` : ''}
      </dd>
      <dt>Files</dt>
      <dd>{job.artifacts.length === 0 ? 'none yet' : `${job.artifacts.length} stored`}</dd>
      {job.failure && (
        <>
          <dt>Failure</dt>
          <dd>{job.failure.message}</dd>
        </>
      )}
      {job.logs.length > 0 && (
        <>
          <dt>Last log line</dt>
          <dd>
            <code>{job.logs.at(-1)}</code>
          </dd>
        </>
      )}
    </dl>
  );
}

/** A session as it was at one step of its timeline: its members and each of its jobs. */
export function SessionState({ state }: { state: SessionTimelineState }) {
  if (!state.session) return <p className="empty">Not opened yet.</p>;
  return (
    <>
      <p>
        <strong>{state.session.title}</strong>: {state.session.memberCount}{' '}
        {state.session.memberCount === 1 ? 'member' : 'members'}, {state.jobs.length}{' '}
        {state.jobs.length === 1 ? 'job' : 'jobs'}
      </p>
      {state.jobs.length > 0 && (
        <ul className="state-jobs">
          {state.jobs.map((job) => (
            <li key={job.jobId}>
              {job.request.prompt}:{' '}
              <span className={`badge badge-${job.status}`}>{statusLabel[job.status]}</span>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
