import { redirect } from 'react-router';
import type { Route } from './+types/home';
import { kiln } from '../server/kiln.server.ts';

/** The front door: the studio for someone signed in, else the sign-in page. */
export const loader = async ({ request }: Route.LoaderArgs) => {
  const me = await kiln().command('/v1/accounts/me', { request });
  throw redirect(me.ok ? '/studio' : '/sign-in');
};
