import { Link } from 'react-router';
import type { SessionTimelineEntry } from '@kiln/contracts/views/timeline';
import type { Route } from './+types/session-timeline';
import { requireUser } from '../server/session.server.ts';
import { Timeline } from '../timeline/Timeline.tsx';
import { loadTimeline, stepOf } from '../timeline/loadTimeline.server.ts';
import { SessionState } from '../timeline/states.tsx';

export const meta: Route.MetaFunction = () => [{ title: 'Session timeline · Kiln' }];

export const loader = async ({ request, params }: Route.LoaderArgs) => {
  await requireUser(request);
  const timeline = await loadTimeline<SessionTimelineEntry>(
    `/v1/sessions/${encodeURIComponent(params.sessionId)}/timeline`,
    request,
  );
  if (!timeline.ok) {
    throw new Response(
      timeline.status === 404 ? 'You are not in a session with this id.' : timeline.problem.message,
      { status: timeline.status },
    );
  }
  return { sessionId: params.sessionId, ...timeline, step: stepOf(request, timeline.entries.length) };
};

export default function SessionTimeline({ loaderData }: Route.ComponentProps) {
  const { sessionId, entries, step, cut, total } = loaderData;
  const path = `/sessions/${encodeURIComponent(sessionId)}`;
  const title = entries.at(-1)?.state.session?.title ?? sessionId;
  return (
    <article className="panel" aria-labelledby="timeline-title">
      <p>
        <Link to={path}>
          <span aria-hidden="true">← </span>The session
        </Link>
      </p>
      <h1 id="timeline-title">Timeline of “{title}”</h1>
      <Timeline
        entries={entries}
        initialStep={step}
        basePath={`${path}/timeline`}
        cut={cut}
        total={total}
        renderState={(entry) => <SessionState state={entry.state} />}
      />
    </article>
  );
}
