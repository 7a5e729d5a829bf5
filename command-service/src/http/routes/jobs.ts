import { Router } from 'express';
import { modelCatalog } from '@kiln/contracts/catalog';
import { userOf } from '@kiln/identity/http';
import type { RateLimiter } from '@kiln/service-kit/rate-limit';
import type { createCancelJob } from '#src/app/cancelJob.ts';
import type { createRequestJob } from '#src/app/requestJob.ts';
import { contextOf, keyedContextOf } from '#src/http/context.ts';
import { routes } from '#src/http/contracts.ts';
import { userKey } from '#src/http/rateKeys.ts';
import type { Mount } from '#src/http/route.ts';

export const jobRoutes = (deps: {
  mount: Mount;
  requestJob: ReturnType<typeof createRequestJob>;
  cancelJob: ReturnType<typeof createCancelJob>;
  jobCreationLimiter: RateLimiter;
}): Router => {
  const router = Router();
  deps.mount(router, routes.models, [], () => Promise.resolve([...modelCatalog]));
  deps.mount(
    router,
    routes.requestJob,
    [],
    (input, req, res) => {
      const user = userOf(res);
      return deps.requestJob(
        { userId: user.id, accountId: user.accountId },
        input.body,
        keyedContextOf(req, res),
      );
    },
    { limits: [[deps.jobCreationLimiter, userKey]] },
  );
  deps.mount(router, routes.cancelJob, [], (input, req, res) => {
    const user = userOf(res);
    return deps.cancelJob(
      { userId: user.id, role: user.role },
      input.params.jobId,
      input.body.reason,
      contextOf(req, res),
    );
  });
  return router;
};
