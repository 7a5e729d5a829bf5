import { Link } from 'react-router';
import type { JobView } from '@kiln/contracts/views';
import { credits } from '../format.ts';
import { coverOf, mediaPath } from './media.ts';
import { statusLabel } from './status.ts';

/** A gallery of jobs: each one's cover picture once stored, status, cost and progress while it runs. */
export function JobCards({
  jobs,
  label,
  mediaUrl,
  highlighted = null,
}: {
  jobs: readonly JobView[];
  label: string;
  mediaUrl: string;
  highlighted?: string | null;
}) {
  return (
    <ul className="jobs" aria-label={label}>
      {jobs.map((job) => {
        const cover = coverOf(job);
        return (
          <li
            key={job.jobId}
            className={`job status-${job.status}${job.jobId === highlighted ? ' just-created' : ''}`}
            data-job-id={job.jobId}
          >
            {cover && (
              <img
                className="job-cover"
                src={mediaPath(mediaUrl, job.jobId, 0, cover.variant)}
                width={cover.width}
                height={cover.height}
                alt=""
                loading="lazy"
              />
            )}
            <p className="job-prompt">
              <Link to={`/jobs/${encodeURIComponent(job.jobId)}`}>{job.request.prompt}</Link>
            </p>
            <p className="job-meta">
              <span className={`badge badge-${job.status}`}>{statusLabel[job.status]}</span>
              <span>{job.modelId}</span>
              <span>{credits(job.cost)}</span>
              <time dateTime={job.requestedAt}>{new Date(job.requestedAt).toUTCString().slice(5, 22)}</time>
            </p>
            {job.status !== 'completed' && job.failure === null && (
              <progress value={job.progress} max={1} aria-label={`Progress of “${job.request.prompt}”`}>
                {Math.round(job.progress * 100)}%
              </progress>
            )}
            {job.failure && <p className="message error">{job.failure.message}</p>}
          </li>
        );
      })}
    </ul>
  );
}
