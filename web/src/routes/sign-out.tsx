import { Form, redirect } from 'react-router';
import type { Route } from './+types/sign-out';
import { kiln, SESSION_COOKIE, withSetCookies } from '../server/kiln.server.ts';

export const meta: Route.MetaFunction = () => [{ title: 'Sign out · Kiln' }];

export const action = async ({ request }: Route.ActionArgs) => {
  const answer = await kiln().command('/v1/accounts/sign-out', { method: 'POST', request });
  // Signed out here whatever the service said (an expired session, a service away): the cookie goes.
  const setCookies =
    answer.setCookies.length > 0
      ? answer.setCookies
      : [`${SESSION_COOKIE}=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax`];
  throw redirect('/sign-in', { headers: withSetCookies(setCookies) });
};

/** Reached without JavaScript or by a link: one button to confirm. */
export default function SignOut() {
  return (
    <section className="panel narrow" aria-labelledby="sign-out-title">
      <h1 id="sign-out-title">Sign out</h1>
      <Form method="post">
        <button type="submit">Sign out of Kiln</button>
      </Form>
    </section>
  );
}
