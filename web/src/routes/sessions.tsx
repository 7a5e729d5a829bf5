import { data, Form, Link, redirect, useNavigation } from 'react-router';
import type { SessionView } from '@kiln/contracts/views';
import type { Route } from './+types/sessions';
import { Field, ProblemMessage } from '../components.tsx';
import { timeText } from '../format.ts';
import { formText } from '../formText.ts';
import { kiln } from '../server/kiln.server.ts';
import { requireUser } from '../server/session.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Shared sessions · Kiln' }];

type SessionsPage = { items: SessionView[]; next: string | null };
type SessionOpened = { sessionId: string; position?: string | null };

export const loader = async ({ request }: Route.LoaderArgs) => {
  await requireUser(request);
  const url = new URL(request.url);
  const query = new URLSearchParams({ limit: '50' });
  for (const name of ['cursor', 'after']) {
    const value = url.searchParams.get(name);
    if (value) query.set(name, value);
  }
  const sessions = await kiln().query<SessionsPage>(`/v1/sessions?${query.toString()}`, { request });
  return {
    sessions: sessions.ok ? sessions.data : null,
    problem: sessions.ok ? null : sessions.problem,
  };
};

export const action = async ({ request }: Route.ActionArgs) => {
  const form = await request.formData();
  const title = formText(form, 'title');
  const answer = await kiln().command<SessionOpened>('/v1/sessions', {
    method: 'POST',
    request,
    body: { title },
  });
  if (answer.ok) {
    const after = answer.data.position ? `?after=${encodeURIComponent(answer.data.position)}` : '';
    throw redirect(`/sessions/${encodeURIComponent(answer.data.sessionId)}${after}`);
  }
  if (answer.status === 401) throw redirect('/sign-in?next=%2Fsessions');
  return data({ problem: answer.problem, title }, { status: answer.status });
};

export default function Sessions({ loaderData, actionData }: Route.ComponentProps) {
  const { sessions, problem } = loaderData;
  const busy = useNavigation().state === 'submitting';
  return (
    <div className="sessions">
      <section className="panel" aria-labelledby="open-title">
        <h1 id="open-title">Shared sessions</h1>
        <p className="hint">
          A session is a room for a team: everyone in it sees its jobs appear and progress live, and who else
          is watching.
        </p>
        <ProblemMessage problem={actionData?.problem} />
        <Form method="post" className="inline-form">
          <Field name="title" label="Name a new session" error={actionData?.problem.fields?.['title']}>
            {(props) => <input {...props} required maxLength={200} defaultValue={actionData?.title ?? ''} />}
          </Field>
          <button type="submit" disabled={busy}>
            {busy ? 'Opening…' : 'Open session'}
          </button>
        </Form>
      </section>
      <section className="panel" aria-labelledby="mine-title">
        <h2 id="mine-title">Sessions you are in</h2>
        <ProblemMessage problem={problem} />
        {sessions && sessions.items.length === 0 && (
          <p className="empty">None yet: open one, or join one by an invite link.</p>
        )}
        {sessions && sessions.items.length > 0 && (
          <ul className="session-list" aria-labelledby="mine-title">
            {sessions.items.map((session) => (
              <li key={session.sessionId}>
                <Link to={`/sessions/${encodeURIComponent(session.sessionId)}`}>{session.title}</Link>
                <span className="hint">
                  {' '}
                  · {session.memberCount} {session.memberCount === 1 ? 'member' : 'members'} ·{' '}
                  {session.jobIds.length} {session.jobIds.length === 1 ? 'job' : 'jobs'} · opened{' '}
                  {timeText(session.openedAt)}
                </span>
              </li>
            ))}
          </ul>
        )}
        {sessions?.next && (
          <p>
            <Link to={`/sessions?${new URLSearchParams({ cursor: sessions.next }).toString()}`}>More</Link>
          </p>
        )}
      </section>
    </div>
  );
}
