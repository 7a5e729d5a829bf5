import type { ReactNode } from 'react';
import {
  Form,
  isRouteErrorResponse,
  Link,
  Links,
  Meta,
  NavLink,
  Outlet,
  Scripts,
  ScrollRestoration,
  useLocation,
  useRouteLoaderData,
} from 'react-router';
import type { Route } from './+types/root';
import { useAccountFeed, type FeedStatus } from './live.ts';
import { credits } from './format.ts';
import { browserUrlOf, serviceUrls } from './server/kiln.server.ts';
import { viewerOf } from './server/session.server.ts';
import './app.css';

export const meta: Route.MetaFunction = () => [{ title: 'Kiln studio' }];

export const loader = async ({ request }: Route.LoaderArgs) => {
  const viewer = await viewerOf(request);
  // The browser talks to the realtime hub directly (its session cookie goes along): it needs its address.
  return { ...viewer, hubUrl: browserUrlOf(serviceUrls().hub, request.url) };
};

const liveLabel: Record<FeedStatus, string> = {
  off: '',
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  closed: 'not live',
};

/** Pages to not come back to after signing in. */
const accountPages = new Set(['/sign-in', '/sign-up', '/sign-out']);

function AccountMenu() {
  const data = useRouteLoaderData<typeof loader>('root');
  const location = useLocation();
  const status = useAccountFeed(data?.user ? data.hubUrl : null);
  if (!data?.user) {
    return (
      <nav aria-label="Account" className="account-links">
        <NavLink
          to={
            accountPages.has(location.pathname)
              ? '/sign-in'
              : `/sign-in?next=${encodeURIComponent(location.pathname)}`
          }
        >
          Sign in
        </NavLink>
        <NavLink to="/sign-up" className="button">
          Sign up
        </NavLink>
      </nav>
    );
  }
  const { user, balance, balanceProblem } = data;
  return (
    <details className="account-menu">
      <summary>
        <span className="account-name">{user.displayName}</span>
        <span className="balance" data-testid="balance" aria-label="Available balance">
          {balance ? credits(balance.available) : 'balance unavailable'}
        </span>
        {status !== 'off' && (
          <span className={`live live-${status}`} role="status">
            {liveLabel[status]}
          </span>
        )}
      </summary>
      <div className="account-panel">
        <p>
          Signed in as <strong>{user.email}</strong>
          {user.role === 'admin' ? ' (admin)' : ''}
        </p>
        {balance ? (
          <dl className="balance-detail">
            <dt>Available</dt>
            <dd>{credits(balance.available)}</dd>
            <dt>Reserved for running jobs</dt>
            <dd>{credits(balance.reserved)}</dd>
          </dl>
        ) : (
          <p className="message error">{balanceProblem ?? 'The balance cannot be read right now.'}</p>
        )}
        <Form method="post" action="/sign-out">
          <button type="submit">Sign out</button>
        </Form>
      </div>
    </details>
  );
}

function MainNav() {
  const data = useRouteLoaderData<typeof loader>('root');
  if (!data?.user) return null;
  return (
    <nav aria-label="Main">
      <NavLink to="/studio">Studio</NavLink>
      <NavLink to="/sessions">Sessions</NavLink>
      <NavLink to="/billing">Billing</NavLink>
      {data.user.role === 'admin' && <NavLink to="/admin">Admin</NavLink>}
    </nav>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <head>
        <meta charSet="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <Meta />
        <Links />
      </head>
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <Link to="/" className="brand">
            Kiln
          </Link>
          <MainNav />
          <AccountMenu />
        </header>
        <main id="main">{children}</main>
        <ScrollRestoration />
        <Scripts />
      </body>
    </html>
  );
}

export default function App() {
  return <Outlet />;
}

export function ErrorBoundary({ error }: Route.ErrorBoundaryProps) {
  // A message for a person; never a stack trace, in production or not.
  let title = 'Something went wrong';
  let message = 'The page could not be shown. Try again in a moment.';
  if (isRouteErrorResponse(error)) {
    title = error.status === 404 ? 'Not found' : `Error ${error.status}`;
    message =
      error.status === 404
        ? 'There is no page here.'
        : typeof error.data === 'string' && error.data !== ''
          ? error.data
          : error.statusText || message;
  }
  return (
    <section className="panel" aria-labelledby="error-title">
      <h1 id="error-title">{title}</h1>
      <p className="message error" role="alert">
        {message}
      </p>
      <p>
        <Link to="/studio">Back to the studio</Link>
      </p>
    </section>
  );
}
