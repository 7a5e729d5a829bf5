import type { KilnEvent } from '@kiln/contracts/events';
import type { JobView } from '@kiln/contracts/views';
import type { RecordedEvent } from '@kiln/event-store/port';
import {
  nothing,
  type Applied,
  type DocRef,
  type ProjectedDoc,
  type Projection,
} from '#src/projections/projection.ts';

export type JobDoc = Omit<JobView, 'position'> & { _id: string };

const MAX_LOG_LINES = 20;
const jobRef = (jobId: string): DocRef => ({ collection: 'jobs', id: jobId });

type Event = RecordedEvent<KilnEvent>;
type JobEventOf<Type extends KilnEvent['type']> = Extract<KilnEvent, { type: Type }>;

const requested = (event: Extract<Event, { type: 'JobRequested' }>): JobDoc => {
  const { data, metadata } = event;
  return {
    _id: data.jobId,
    jobId: data.jobId,
    userId: data.userId,
    accountId: data.accountId,
    kind: data.request.kind,
    modelId: data.request.modelId,
    request: data.request,
    cost: data.cost,
    status: 'requested',
    step: null,
    progress: 0,
    queuePosition: null,
    logs: [],
    provider: null,
    attempts: 0,
    failure: null,
    artifacts: [],
    sessionIds: [],
    requestedAt: metadata.at,
    submittedAt: null,
    finishedAt: null,
    updatedAt: metadata.at,
  };
};

const withLog = (logs: readonly string[], line: string | undefined) =>
  line === undefined ? [...logs] : [...logs, line].slice(-MAX_LOG_LINES);

/** How each job event changes a job that exists. */
const evolveJob = (job: JobDoc, event: Event): JobDoc => {
  const at = event.metadata.at;
  const next = { ...job, updatedAt: at };
  switch (event.type) {
    case 'JobProviderSubmitted':
      return {
        ...next,
        status: 'submitted',
        provider: event.data.provider,
        attempts: Math.max(job.attempts, event.data.attempt),
        submittedAt: job.submittedAt ?? at,
      };
    case 'JobProgressed':
      return {
        ...next,
        status: job.status === 'cancel_requested' ? job.status : 'running',
        step: event.data.step,
        progress: event.data.progress,
        queuePosition: event.data.queuePosition ?? null,
        logs: withLog(job.logs, event.data.log),
      };
    case 'JobProviderAttemptFailed':
      return {
        ...next,
        attempts: Math.max(job.attempts, event.data.attempt),
        logs: withLog(
          job.logs,
          `attempt ${event.data.attempt} failed (${event.data.code})${event.data.retryable ? '; trying again' : ''}`,
        ),
      };
    case 'JobSucceeded':
      return {
        ...next,
        status: 'succeeded',
        progress: 1,
        provider: event.data.provider,
        queuePosition: null,
      };
    case 'JobFailed':
      return {
        ...next,
        status: 'failed',
        failure: { code: event.data.code, message: event.data.message, retryable: event.data.retryable },
        finishedAt: at,
      };
    case 'JobCancelRequested':
      return { ...next, status: 'cancel_requested' };
    case 'JobCanceled':
      return { ...next, status: 'canceled', finishedAt: at };
    case 'JobTimedOut':
      return { ...next, status: 'timed_out', finishedAt: at };
    case 'JobArtifactsStored':
      return { ...next, status: 'artifacts_stored', artifacts: event.data.artifacts };
    case 'JobCompleted':
      return { ...next, status: 'completed', progress: 1, finishedAt: at };
    case 'SessionJobAdded':
      return job.sessionIds.includes(event.data.sessionId)
        ? next
        : { ...next, sessionIds: [...job.sessionIds, event.data.sessionId] };
    default:
      return job;
  }
};

const jobIdOf = (event: Event): string | undefined => {
  if (event.type.startsWith('Job') || event.type === 'SessionJobAdded')
    return (event.data as JobEventOf<'JobCompleted'>['data']).jobId;
  return undefined;
};

/** Jobs as their owners and session members see them (status, progress, provider, timings, artifacts), and the artifacts on their own. */
export const jobsProjection: Projection = {
  name: 'jobs',
  collections: {
    jobs: {
      kind: 'folded',
      indexes: [
        { key: { userId: 1, requestedAt: -1, _id: -1 } },
        { key: { userId: 1, status: 1, requestedAt: -1, _id: -1 } },
        { key: { userId: 1, kind: 1, requestedAt: -1, _id: -1 } },
        { key: { sessionIds: 1, requestedAt: -1, _id: -1 } },
      ],
    },
    artifacts: { kind: 'appended', indexes: [{ key: { jobId: 1 } }] },
  },
  touches: (event) => {
    const jobId = jobIdOf(event);
    return jobId ? [jobRef(jobId)] : [];
  },
  apply: (event, current): Applied => {
    const jobId = jobIdOf(event);
    if (!jobId) return nothing;
    const ref = jobRef(jobId);
    if (event.type === 'JobRequested') return { folded: [{ ref, doc: requested(event) }], appended: [] };
    const job = current(ref) as (ProjectedDoc & JobDoc) | undefined;
    if (!job) return nothing;
    const { position: _position, ...before } = job;
    const doc = evolveJob(before, event);
    const appended =
      event.type === 'JobArtifactsStored'
        ? event.data.artifacts.map((artifact) => ({
            collection: 'artifacts',
            doc: { _id: artifact.artifactId, jobId, userId: job.userId, ...artifact },
          }))
        : [];
    return { folded: [{ ref, doc }], appended };
  },
};
