import { Router } from 'express';
import { z } from 'zod';
import { EntityId } from '@kiln/contracts/envelope';
import type { KilnEvent } from '@kiln/contracts/events';
import { ApiProblem } from '@kiln/contracts/http/problem';
import { ArtifactVariant } from '@kiln/contracts/job/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';
import { requireUser, userOf } from '@kiln/identity/http';
import { parseWith } from '@kiln/service-kit/http';
import type { AccessView } from '#src/access/accessView.ts';
import type { MediaStore } from '#src/storage/mediaStore.ts';

const params = z.strictObject({
  jobId: EntityId,
  outputIndex: z.coerce.number().int().min(0).max(63),
  variant: ArtifactVariant,
});

/**
 * `GET /v1/media/jobs/:jobId/:outputIndex/:variant`: a stored file, to its job's owner, to members of a
 * session the job is in, and to admins; to anyone else it does not exist (404). Files never change
 * under a key, so they are cached for good (`immutable`), and revalidated by their checksum.
 */
export const mediaRoutes = (deps: {
  store: EventStore<KilnEvent>;
  media: MediaStore;
  access: AccessView;
}): Router => {
  const router = Router();
  router.get('/v1/media/jobs/:jobId/:outputIndex/:variant', requireUser, async (req, res) => {
    const { jobId, outputIndex, variant } = parseWith(params, req.params, 'params');
    const user = userOf(res);
    const notFound = new ApiProblem('not_found', 'no such file');
    if (user.role !== 'admin' && !(await deps.access.canRead(user.id, jobId))) throw notFound;
    const stored = (await deps.store.readStream(jobStreamId(jobId))).find(
      (event) => event.type === 'JobArtifactsStored',
    );
    const artifact =
      stored?.type === 'JobArtifactsStored'
        ? stored.data.artifacts.find(
            (candidate) => candidate.outputIndex === outputIndex && candidate.variant === variant,
          )
        : undefined;
    if (!artifact) throw notFound;
    const etag = `"${artifact.sha256}"`;
    res.set({
      'Cache-Control': 'private, max-age=31536000, immutable',
      ETag: etag,
      'X-Content-Type-Options': 'nosniff',
      Vary: 'Cookie, Authorization',
    });
    if (req.get('if-none-match') === etag) return void res.status(304).end();
    const file = await deps.media.get(artifact.storageKey);
    if (!file) throw notFound;
    res.set({ 'Content-Type': artifact.contentType, 'Content-Length': String(file.size) });
    file.body.pipe(res);
  });
  return router;
};
