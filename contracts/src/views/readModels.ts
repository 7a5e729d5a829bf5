import { z } from 'zod';
import { EntityId } from '#src/envelope.ts';
import { Artifact, JobFailureCode } from '#src/job/events.ts';
import { GenerationRequest } from '#src/job/request.ts';
import { Position } from '#src/position.ts';

const Timestamp = z.iso.datetime({ offset: true });

export const JobStatus = z.enum([
  'requested',
  'submitted',
  'running',
  'cancel_requested',
  'succeeded',
  'artifacts_stored',
  'completed',
  'failed',
  'canceled',
  'timed_out',
]);
export type JobStatus = z.infer<typeof JobStatus>;

/** A job as readers see it (the `jobs` read model). */
export const JobView = z.strictObject({
  jobId: EntityId,
  userId: EntityId,
  accountId: EntityId,
  kind: z.enum(['image', 'video']),
  modelId: z.string(),
  request: GenerationRequest,
  cost: z.int().nonnegative(),
  status: JobStatus,
  step: z.string().nullable(),
  progress: z.number().min(0).max(1),
  queuePosition: z.int().nonnegative().nullable(),
  /** The provider's recent log lines, cleaned, newest last (at most 20). */
  logs: z.array(z.string()),
  provider: z.string().nullable(),
  attempts: z.int().nonnegative(),
  failure: z.strictObject({ code: JobFailureCode, message: z.string(), retryable: z.boolean() }).nullable(),
  artifacts: z.array(Artifact),
  sessionIds: z.array(EntityId),
  requestedAt: Timestamp,
  submittedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
  updatedAt: Timestamp,
  /** The position of the last event folded into it. */
  position: Position,
});
export type JobView = z.infer<typeof JobView>;

export const SessionMemberView = z.strictObject({
  userId: EntityId,
  displayName: z.string(),
  joinedAt: Timestamp,
});

/** A shared session (the `sessions` read model); members are listed apart, paged. */
export const SessionView = z.strictObject({
  sessionId: EntityId,
  title: z.string(),
  ownerId: EntityId,
  memberCount: z.int().nonnegative(),
  jobIds: z.array(EntityId),
  openedAt: Timestamp,
  updatedAt: Timestamp,
  position: Position,
});
export type SessionView = z.infer<typeof SessionView>;

export const LedgerKind = z.enum([
  'opened',
  'granted',
  'purchased',
  'reserved',
  'captured',
  'released',
  'refunded',
  'adjusted',
]);

/** One line of an account's credit ledger: one per billing event, with the balance after it. */
export const LedgerEntry = z.strictObject({
  accountId: EntityId,
  eventId: z.uuid(),
  kind: LedgerKind,
  /** Change to available credits (negative when credits are held or taken away). */
  availableChange: z.int(),
  /** Change to reserved credits. */
  reservedChange: z.int(),
  availableAfter: z.int().nonnegative(),
  reservedAfter: z.int().nonnegative(),
  jobId: EntityId.nullable(),
  /** What happened, in plain words: "Reserved 6 credits for job j_…". */
  description: z.string(),
  actor: z.strictObject({ kind: z.string(), id: z.string() }),
  at: Timestamp,
  position: Position,
});
export type LedgerEntry = z.infer<typeof LedgerEntry>;

export const Balance = z.strictObject({
  accountId: EntityId,
  available: z.int().nonnegative(),
  reserved: z.int().nonnegative(),
  updatedAt: Timestamp,
  position: Position,
});
export type Balance = z.infer<typeof Balance>;

export const ProviderHealth = z.strictObject({
  provider: z.string(),
  breaker: z.enum(['closed', 'open', 'half-open']),
  changedAt: Timestamp,
  consecutiveFailures: z.int().nonnegative(),
  limitHits: z.int().nonnegative(),
  lastLimitHitAt: Timestamp.nullable(),
  position: Position,
});
export type ProviderHealth = z.infer<typeof ProviderHealth>;

export const ProjectorLag = z.strictObject({
  projector: z.string(),
  position: Position.nullable(),
  head: Position.nullable(),
  /** Events of `$all` not yet folded in. */
  eventsBehind: z.int().nonnegative(),
  caughtUp: z.boolean(),
});
export type ProjectorLag = z.infer<typeof ProjectorLag>;

/** `audit`: the projection against a fresh fold of the account's billing stream. */
export const AuditResult = z.strictObject({
  accountId: EntityId,
  matches: z.boolean(),
  projected: z.strictObject({ available: z.int(), reserved: z.int() }),
  folded: z.strictObject({ available: z.int(), reserved: z.int() }),
  difference: z.strictObject({ available: z.int(), reserved: z.int() }),
  /** The billing stream's last position the fold included. */
  position: Position.nullable(),
});
export type AuditResult = z.infer<typeof AuditResult>;

/** `replay`: an account as of a past position (or time): its balance and its ledger up to then. */
export const ReplayResult = z.strictObject({
  accountId: EntityId,
  asOf: z.strictObject({ position: Position.nullable(), at: Timestamp.nullable() }),
  balance: z.strictObject({ available: z.int(), reserved: z.int() }),
  ledger: z.array(LedgerEntry),
});
export type ReplayResult = z.infer<typeof ReplayResult>;

/** A page of a list: items and the cursor of the next page (null at the end). */
export const pageOf = <Item extends z.ZodType>(item: Item) =>
  z.strictObject({ items: z.array(item), next: z.string().nullable() });
