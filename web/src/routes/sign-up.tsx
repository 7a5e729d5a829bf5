import { data, Form, Link, redirect, useNavigation } from 'react-router';
import type { Route } from './+types/sign-up';
import { Field, ProblemMessage } from '../components.tsx';
import { formText } from '../formText.ts';
import { kiln, withSetCookies } from '../server/kiln.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Sign up · Kiln' }];

export const action = async ({ request }: Route.ActionArgs) => {
  const form = await request.formData();
  const values = {
    email: formText(form, 'email'),
    displayName: formText(form, 'displayName'),
  };
  const answer = await kiln().command('/v1/accounts/sign-up', {
    method: 'POST',
    request,
    body: { ...values, password: formText(form, 'password') },
  });
  // Signing up signs in: the session cookie comes back with the answer.
  if (answer.ok) throw redirect('/studio', { headers: withSetCookies(answer.setCookies) });
  return data({ problem: answer.problem, values }, { status: answer.status });
};

export default function SignUp({ actionData }: Route.ComponentProps) {
  const busy = useNavigation().state === 'submitting';
  const fields = actionData?.problem.fields ?? {};
  return (
    <section className="panel narrow" aria-labelledby="sign-up-title">
      <h1 id="sign-up-title">Create your account</h1>
      <ProblemMessage problem={actionData?.problem} />
      <Form method="post" replace>
        <Field name="displayName" label="Your name" error={fields['displayName']}>
          {(props) => (
            <input
              {...props}
              autoComplete="name"
              required
              maxLength={100}
              defaultValue={actionData?.values.displayName ?? ''}
            />
          )}
        </Field>
        <Field name="email" label="Email" error={fields['email']}>
          {(props) => (
            <input
              {...props}
              type="email"
              autoComplete="email"
              required
              defaultValue={actionData?.values.email ?? ''}
            />
          )}
        </Field>
        <Field name="password" label="Password" hint="At least 10 characters." error={fields['password']}>
          {(props) => (
            <input {...props} type="password" autoComplete="new-password" required minLength={10} />
          )}
        </Field>
        <button type="submit" disabled={busy}>
          {busy ? 'Creating your account…' : 'Create account'}
        </button>
      </Form>
      <p>
        Already have an account? <Link to="/sign-in">Sign in</Link>
      </p>
    </section>
  );
}
