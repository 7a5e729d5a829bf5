import { data, Form, redirect, useNavigation } from 'react-router';
import type { Route } from './+types/join';
import { ProblemMessage } from '../components.tsx';
import { formText } from '../formText.ts';
import { kiln } from '../server/kiln.server.ts';
import { requireUser } from '../server/session.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Join a session · Kiln' }];

type SessionJoined = { sessionId: string; position?: string | null };

/** An invite link opens this page; joining takes a click (a link preview must not join anyone). */
export const loader = async ({ request }: Route.LoaderArgs) => {
  const user = await requireUser(request);
  const token = new URL(request.url).searchParams.get('token') ?? '';
  return { token, displayName: user.displayName };
};

export const action = async ({ request }: Route.ActionArgs) => {
  const form = await request.formData();
  const token = formText(form, 'token');
  const answer = await kiln().command<SessionJoined>('/v1/sessions/join', {
    method: 'POST',
    request,
    body: { token },
  });
  if (answer.ok) {
    const after = answer.data.position ? `?after=${encodeURIComponent(answer.data.position)}` : '';
    throw redirect(`/sessions/${encodeURIComponent(answer.data.sessionId)}${after}`);
  }
  if (answer.status === 401) throw redirect(`/sign-in?next=${encodeURIComponent(`/join?token=${token}`)}`);
  const problem =
    answer.status === 404 || answer.status === 403 || answer.status === 400
      ? {
          ...answer.problem,
          message: 'This invite link does not work: it is wrong, used up or expired. Ask for a new one.',
        }
      : answer.problem;
  return data({ problem }, { status: answer.status });
};

export default function Join({ loaderData, actionData }: Route.ComponentProps) {
  const busy = useNavigation().state === 'submitting';
  return (
    <section className="panel narrow" aria-labelledby="join-title">
      <h1 id="join-title">Join a shared session</h1>
      <p>
        You were invited to a shared session. Join it as <strong>{loaderData.displayName}</strong>: you will
        see its jobs live, the others will see you watching, and you can add jobs of your own.
      </p>
      <ProblemMessage problem={actionData?.problem} />
      <Form method="post">
        <input type="hidden" name="token" value={loaderData.token} />
        <button type="submit" disabled={busy || loaderData.token === ''}>
          {busy ? 'Joining…' : 'Join the session'}
        </button>
      </Form>
    </section>
  );
}
