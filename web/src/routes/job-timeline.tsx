import { Link } from 'react-router';
import type { JobTimelineEntry } from '@kiln/contracts/views/timeline';
import type { Route } from './+types/job-timeline';
import { requireUser } from '../server/session.server.ts';
import { Timeline } from '../timeline/Timeline.tsx';
import { loadTimeline, stepOf } from '../timeline/loadTimeline.server.ts';
import { JobState } from '../timeline/states.tsx';

export const meta: Route.MetaFunction = () => [{ title: 'Job timeline · Kiln' }];

export const loader = async ({ request, params }: Route.LoaderArgs) => {
  await requireUser(request);
  const timeline = await loadTimeline<JobTimelineEntry>(
    `/v1/jobs/${encodeURIComponent(params.jobId)}/timeline`,
    request,
  );
  if (!timeline.ok) {
    throw new Response(timeline.status === 404 ? 'You have no job with this id.' : timeline.problem.message, {
      status: timeline.status,
    });
  }
  return { jobId: params.jobId, ...timeline, step: stepOf(request, timeline.entries.length) };
};

export default function JobTimeline({ loaderData }: Route.ComponentProps) {
  const { jobId, entries, step, cut, total } = loaderData;
  const path = `/jobs/${encodeURIComponent(jobId)}`;
  const prompt = entries.find((entry) => entry.state)?.state?.request.prompt ?? jobId;
  return (
    <article className="panel" aria-labelledby="timeline-title">
      <p>
        <Link to={path}>
          <span aria-hidden="true">← </span>The job
        </Link>
      </p>
      <h1 id="timeline-title">Timeline of “{prompt}”</h1>
      <Timeline
        entries={entries}
        initialStep={step}
        basePath={`${path}/timeline`}
        cut={cut}
        total={total}
        renderState={(entry) => <JobState job={entry.state} />}
      />
    </article>
  );
}
