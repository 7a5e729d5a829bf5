import type { RequestHandler } from 'express';
import { z } from 'zod';
import { ApiProblem } from '@kiln/contracts/http/problem';
import { Position } from '@kiln/contracts/position';
import { parseWith } from '@kiln/service-kit/http';

const After = z.object({ after: Position.optional() });

/**
 * Read your own write: a client that just issued a command sends the position it was given as
 * `?after=<position>`, and the answer waits (at most `waitMs`) until every projector has folded it in.
 * Still behind after that: 503, retryable, so the client asks again rather than reading stale data.
 */
export const afterWait =
  (reached: (position: string, timeoutMs: number) => Promise<void>, waitMs: number): RequestHandler =>
  async (req, _res, next) => {
    const { after } = parseWith(After, { after: req.query['after'] }, 'query');
    if (after !== undefined) {
      try {
        await reached(after, waitMs);
      } catch {
        throw new ApiProblem(
          'unavailable',
          `the read models have not reached ${after} yet; ask again in a moment`,
          { retryAfterSeconds: 1 },
        );
      }
    }
    next();
  };
