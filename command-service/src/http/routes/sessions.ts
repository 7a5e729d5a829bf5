import { Router } from 'express';
import { userOf } from '@kiln/identity/http';
import type { Sessions } from '#src/app/sessions.ts';
import { contextOf } from '#src/http/context.ts';
import { routes } from '#src/http/contracts.ts';
import type { Mount } from '#src/http/route.ts';

export const sessionRoutes = (deps: { mount: Mount; sessions: Sessions }): Router => {
  const router = Router();
  const memberOf = (res: Parameters<typeof userOf>[0]) => {
    const user = userOf(res);
    return { userId: user.id, displayName: user.displayName };
  };
  deps.mount(router, routes.openSession, [], (input, req, res) =>
    deps.sessions.open(memberOf(res), input.body.title, contextOf(req, res)),
  );
  deps.mount(router, routes.joinSession, [], (input, req, res) =>
    deps.sessions.join(memberOf(res), input.body.token, contextOf(req, res)),
  );
  deps.mount(router, routes.inviteToSession, [], (input, req, res) =>
    deps.sessions.invite(memberOf(res), input.params.sessionId, contextOf(req, res)),
  );
  deps.mount(router, routes.leaveSession, [], (input, req, res) =>
    deps.sessions.leave(memberOf(res), input.params.sessionId, contextOf(req, res)),
  );
  deps.mount(router, routes.addJobToSession, [], (input, req, res) =>
    deps.sessions.addJob(memberOf(res), input.params.sessionId, input.body.jobId, contextOf(req, res)),
  );
  return router;
};
