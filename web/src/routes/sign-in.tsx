import { data, Form, Link, redirect, useNavigation } from 'react-router';
import type { Route } from './+types/sign-in';
import { Field, ProblemMessage } from '../components.tsx';
import { formText } from '../formText.ts';
import { kiln, withSetCookies } from '../server/kiln.server.ts';
import { safeNext } from '../server/session.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Sign in · Kiln' }];

export const loader = ({ request }: Route.LoaderArgs) => ({
  next: safeNext(new URL(request.url).searchParams.get('next')),
});

export const action = async ({ request }: Route.ActionArgs) => {
  const form = await request.formData();
  const email = formText(form, 'email');
  const password = formText(form, 'password');
  const answer = await kiln().command('/v1/accounts/sign-in', {
    method: 'POST',
    request,
    body: { email, password },
  });
  if (answer.ok) {
    throw redirect(safeNext(form.get('next')), { headers: withSetCookies(answer.setCookies) });
  }
  return data({ problem: answer.problem, email }, { status: answer.status });
};

export default function SignIn({ loaderData, actionData }: Route.ComponentProps) {
  const busy = useNavigation().state === 'submitting';
  return (
    <section className="panel narrow" aria-labelledby="sign-in-title">
      <h1 id="sign-in-title">Sign in</h1>
      <ProblemMessage problem={actionData?.problem} />
      <Form method="post" replace>
        <input type="hidden" name="next" value={loaderData.next} />
        <Field name="email" label="Email" error={actionData?.problem.fields?.['email']}>
          {(props) => (
            <input
              {...props}
              type="email"
              autoComplete="email"
              required
              defaultValue={actionData?.email ?? ''}
            />
          )}
        </Field>
        <Field name="password" label="Password" error={actionData?.problem.fields?.['password']}>
          {(props) => <input {...props} type="password" autoComplete="current-password" required />}
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </Form>
      <p>
        New to Kiln? <Link to="/sign-up">Create an account</Link>
      </p>
    </section>
  );
}
