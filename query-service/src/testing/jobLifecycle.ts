import { randomUUID } from 'node:crypto';
import type { Actor } from '@kiln/contracts/envelope';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Artifact } from '@kiln/contracts/job/events';
import { jobStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';

const event = (type: string, data: Record<string, unknown>, actor: Actor): KilnEvent =>
  ({
    id: randomUUID(),
    type,
    data,
    metadata: {
      correlationId: `test-${randomUUID()}`,
      causationId: null,
      actor,
      at: new Date().toISOString(),
    },
  }) as unknown as KilnEvent;

const system: Actor = { kind: 'system', id: 'test' };
const provider: Actor = { kind: 'provider', id: 'local' };

export const artifactsOf = (jobId: string): Artifact[] =>
  (['original', 'thumbnail'] as const).map((variant) => ({
    artifactId: `${jobId}-0-${variant}`,
    outputIndex: 0,
    variant,
    storageKey: `${jobId}/0/${variant}.webp`,
    contentType: 'image/webp',
    size: variant === 'original' ? 5_000 : 700,
    width: variant === 'original' ? 512 : 128,
    height: variant === 'original' ? 512 : 128,
    sha256: (variant === 'original' ? 'a' : 'b').repeat(64),
  }));

/**
 * What the provider runner, media-processor and the job's process manager append for a job that goes
 * well (submitted, two progress steps, succeeded, artifacts stored, completed), onto a job requested
 * through the command service: the later half of a job's lawful life, without running those services.
 */
export const finishJob = async (store: EventStore<KilnEvent>, jobId: string) => {
  const artifacts = artifactsOf(jobId);
  const events = [
    event(
      'JobProviderSubmitted',
      { jobId, provider: 'local', providerJobId: `p-${jobId}`, attempt: 1, idempotencyKey: `${jobId}/1` },
      system,
    ),
    event('JobProgressed', { jobId, step: 'queued', progress: 0, queuePosition: 2 }, provider),
    event('JobProgressed', { jobId, step: 'rendering', progress: 0.5, log: 'half way' }, provider),
    event(
      'JobSucceeded',
      { jobId, provider: 'local', outputs: [{ index: 0, url: `http://127.0.0.1:1/${jobId}.png` }] },
      provider,
    ),
    event('JobArtifactsStored', { jobId, artifacts }, system),
    event('JobCompleted', { jobId }, system),
  ];
  const appended = await store.appendToStream(jobStreamId(jobId), events);
  return { position: appended.position, artifacts, types: events.map(({ type }) => type) };
};
