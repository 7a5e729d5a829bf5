import { type RouteConfig, index, route } from '@react-router/dev/routes';

export default [
  index('routes/home.tsx'),
  route('sign-up', 'routes/sign-up.tsx'),
  route('sign-in', 'routes/sign-in.tsx'),
  route('sign-out', 'routes/sign-out.tsx'),
  route('studio', 'routes/studio.tsx'),
  route('jobs/:jobId', 'routes/job.tsx'),
  route('jobs/:jobId/timeline', 'routes/job-timeline.tsx'),
  route('sessions', 'routes/sessions.tsx'),
  route('sessions/:sessionId', 'routes/session.tsx'),
  route('sessions/:sessionId/timeline', 'routes/session-timeline.tsx'),
  route('join', 'routes/join.tsx'),
  route('billing', 'routes/billing.tsx'),
  route('admin', 'routes/admin.tsx'),
] satisfies RouteConfig;
