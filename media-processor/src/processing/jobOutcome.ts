import { deterministicEventId } from '@kiln/contracts/event-ids';
import type { KilnEvent } from '@kiln/contracts/events';
import type { Artifact, JobFailureCode } from '@kiln/contracts/job/events';
import { jobStreamId } from '@kiln/contracts/streams';
import { WrongExpectedRevision } from '@kiln/event-store/errors';
import type { EventStore } from '@kiln/event-store/port';

const over: ReadonlySet<string> = new Set([
  'JobArtifactsStored',
  'JobCompleted',
  'JobFailed',
  'JobCanceled',
  'JobTimedOut',
]);

export type JobOutcome =
  | { kind: 'stored'; artifacts: Artifact[] }
  | { kind: 'failed'; code: JobFailureCode; message: string; retryable: boolean };

/**
 * Whether a job still waits for its artifacts (it succeeded, and nothing has ended it since), and the
 * revision that was read: the verdict is appended at it first.
 */
export const awaitsArtifacts = async (
  store: EventStore<KilnEvent>,
  jobId: string,
): Promise<{ waiting: boolean; revision: number }> => {
  const events = await store.readStream(jobStreamId(jobId));
  const waiting =
    events.some((event) => event.type === 'JobSucceeded') && !events.some((event) => over.has(event.type));
  return { waiting, revision: events.length - 1 };
};

/**
 * Appends the media processor's verdict on a job, once: its artifacts stored, or its failure. The event id
 * is fixed per job, and the append expects the revision it checked, so a job that ended meanwhile (a
 * cancel, a timeout) is left as it is, and a verdict given twice is stored once.
 */
export const recordOutcome = async (
  store: EventStore<KilnEvent>,
  jobId: string,
  outcome: JobOutcome,
  context: { correlationId: string; causeId: string },
  /** The revision the job was at when the work began: tried first, without reading again. */
  knownRevision?: number,
): Promise<'recorded' | 'job already over'> => {
  const metadata = {
    correlationId: context.correlationId,
    causationId: context.causeId,
    actor: { kind: 'system', id: 'media-processor' },
    at: new Date().toISOString(),
  } as const;
  const event: KilnEvent =
    outcome.kind === 'stored'
      ? {
          id: deterministicEventId(`media/${jobId}/artifacts`),
          type: 'JobArtifactsStored',
          data: { jobId, artifacts: outcome.artifacts },
          metadata,
        }
      : {
          id: deterministicEventId(`media/${jobId}/failed`),
          type: 'JobFailed',
          data: {
            jobId,
            code: outcome.code,
            message: outcome.message,
            retryable: outcome.retryable,
          },
          metadata,
        };
  if (knownRevision !== undefined) {
    try {
      await store.appendToStream(jobStreamId(jobId), [event], { expectedRevision: knownRevision });
      return 'recorded';
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision)) throw error;
    }
  }
  for (let attempt = 0; attempt < 5; attempt += 1) {
    const events = await store.readStream(jobStreamId(jobId));
    if (events.some((existing) => existing.id === event.id)) return 'recorded';
    if (events.some((existing) => over.has(existing.type))) return 'job already over';
    try {
      await store.appendToStream(jobStreamId(jobId), [event], { expectedRevision: events.length - 1 });
      return 'recorded';
    } catch (error) {
      if (!(error instanceof WrongExpectedRevision)) throw error;
    }
  }
  throw new Error(`job ${jobId} kept changing while its artifacts were recorded`);
};
