import { z } from 'zod';
import { defineEvent, EntityId, PositiveCredits } from '#src/envelope.ts';
import { GenerationRequest, InputFile, MAX_INPUT_FILES } from '#src/job/request.ts';

/** Kiln's own failure codes. Provider wording never reaches an event a client can read. */
export const JobFailureCode = z.enum([
  'provider_rejected',
  'provider_unavailable',
  'provider_timeout',
  'provider_error',
  'content_filtered',
  'output_invalid',
  'output_too_large',
  'timed_out',
  'internal',
]);
export type JobFailureCode = z.infer<typeof JobFailureCode>;

const ProviderName = z.string().min(1).max(50);
const Progress = z.number().min(0).max(1);

export const JobRequested = defineEvent(
  'JobRequested',
  z.strictObject({
    jobId: EntityId,
    accountId: EntityId,
    userId: EntityId,
    request: GenerationRequest,
    inputs: z.array(InputFile).max(MAX_INPUT_FILES),
    /** Credits reserved for the job, computed from the model catalog. */
    cost: PositiveCredits,
    /** When the job is given up on if it has not finished, from the model's timeout. */
    deadline: z.iso.datetime({ offset: true }),
  }),
);

export const JobProviderSubmitted = defineEvent(
  'JobProviderSubmitted',
  z.strictObject({
    jobId: EntityId,
    provider: ProviderName,
    providerJobId: z.string().min(1).max(200),
    attempt: z.int().positive(),
    /** Derived from the job id and the attempt, so a retried submission is recognised by the provider. */
    idempotencyKey: z.string().min(1).max(200),
  }),
);

export const JobProgressed = defineEvent(
  'JobProgressed',
  z.strictObject({
    jobId: EntityId,
    step: z.string().min(1).max(100),
    progress: Progress,
    queuePosition: z.int().nonnegative().optional(),
    /** A line of the provider's log, already stripped of anything but the words a person needs. */
    log: z.string().max(1000).optional(),
  }),
);

export const JobProviderAttemptFailed = defineEvent(
  'JobProviderAttemptFailed',
  z.strictObject({
    jobId: EntityId,
    provider: ProviderName,
    attempt: z.int().positive(),
    code: JobFailureCode,
    retryable: z.boolean(),
    retryAt: z.iso.datetime({ offset: true }).optional(),
  }),
);

export const JobOutput = z.strictObject({
  index: z.int().nonnegative(),
  url: z.url({ protocol: /^https?$/ }),
  contentType: z.string().max(100).optional(),
});
export type JobOutput = z.infer<typeof JobOutput>;

export const JobSucceeded = defineEvent(
  'JobSucceeded',
  z.strictObject({
    jobId: EntityId,
    provider: ProviderName,
    outputs: z.array(JobOutput).min(1).max(16),
  }),
);

export const JobFailed = defineEvent(
  'JobFailed',
  z.strictObject({
    jobId: EntityId,
    code: JobFailureCode,
    message: z.string().min(1).max(500),
    retryable: z.boolean(),
  }),
);

export const JobCancelRequested = defineEvent(
  'JobCancelRequested',
  z.strictObject({ jobId: EntityId, reason: z.string().max(500).optional() }),
);

export const JobCanceled = defineEvent(
  'JobCanceled',
  z.strictObject({ jobId: EntityId, reason: z.string().max(500).optional() }),
);

export const JobTimedOut = defineEvent(
  'JobTimedOut',
  z.strictObject({ jobId: EntityId, deadline: z.iso.datetime({ offset: true }) }),
);

export const ArtifactVariant = z.enum(['original', 'preview', 'thumbnail', 'poster']);
export type ArtifactVariant = z.infer<typeof ArtifactVariant>;

export const Artifact = z.strictObject({
  artifactId: z.string().min(1).max(128),
  outputIndex: z.int().nonnegative(),
  variant: ArtifactVariant,
  storageKey: z.string().min(1).max(500),
  contentType: z.string().min(1).max(100),
  size: z.int().nonnegative(),
  width: z.int().positive(),
  height: z.int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Artifact = z.infer<typeof Artifact>;

export const JobArtifactsStored = defineEvent(
  'JobArtifactsStored',
  z.strictObject({ jobId: EntityId, artifacts: z.array(Artifact).min(1).max(64) }),
);

export const JobCompleted = defineEvent('JobCompleted', z.strictObject({ jobId: EntityId }));

export const JobEvent = z.discriminatedUnion('type', [
  JobRequested,
  JobProviderSubmitted,
  JobProgressed,
  JobProviderAttemptFailed,
  JobSucceeded,
  JobFailed,
  JobCancelRequested,
  JobCanceled,
  JobTimedOut,
  JobArtifactsStored,
  JobCompleted,
]);
export type JobEvent = z.infer<typeof JobEvent>;
