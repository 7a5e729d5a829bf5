import { createHash } from 'node:crypto';
import { findModel, priceOf, requestProblems } from '@kiln/contracts/catalog';
import type { JobAccepted, RequestJobBody } from '@kiln/contracts/job/http';
import { billingStreamId, jobStreamId, sessionStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';
import type { KilnEvent } from '@kiln/contracts/events';
import type { CommandContext, CommandHandler } from '#src/app/commandHandler.ts';
import type { UploadStore } from '#src/adapters/uploadStore.ts';
import { readState } from '#src/app/readState.ts';
import { billingDecider } from '#src/domain/billing/decide.ts';
import { DomainError } from '#src/domain/errors.ts';
import { jobDecider } from '#src/domain/job/decide.ts';
import { sessionDecider } from '#src/domain/session/decide.ts';

export type Requester = { userId: string; accountId: string };

/** The same user and idempotency key always name the same job, so a retry converges on it. */
export const jobIdFor = (userId: string, idempotencyKey: string): string =>
  `j_${createHash('sha256').update(`${userId}\n${idempotencyKey}`).digest('hex').slice(0, 32)}`;

/**
 * `POST /v1/jobs`: checks the request against the model catalog, reserves its price on the requester's
 * billing account (402 with the shortfall, 429 past the active-job limit), then records the request,
 * and adds it to a shared session when asked. Each step is idempotent, so a retry after a crash between
 * them finishes the job's creation instead of charging twice.
 */
export const createRequestJob =
  (deps: {
    handle: CommandHandler;
    store: EventStore<KilnEvent>;
    uploads: UploadStore;
    maxActiveJobs: number;
  }) =>
  async (
    requester: Requester,
    body: RequestJobBody,
    context: CommandContext & { idempotencyKey: string },
  ): Promise<JobAccepted> => {
    const model = findModel(body.request.modelId);
    if (!model) {
      throw new DomainError('invalid_request', `there is no model ${body.request.modelId} in the catalog`, {
        modelId: body.request.modelId,
      });
    }
    const inputs = await deps.uploads.resolve(requester.userId, body.inputFileIds ?? []);
    const problems = requestProblems(model, body.request, inputs.length);
    if (problems.length > 0) throw new DomainError('invalid_request', problems.join('; '), { problems });

    const jobId = jobIdFor(requester.userId, context.idempotencyKey);
    const cost = priceOf(model, body.request);
    const deadline = new Date(context.now.getTime() + model.timeoutSeconds * 1000).toISOString();

    // A job is recorded only after its reservation, so a reservation made now proves that no earlier
    // attempt recorded it, and the common case reads nothing. When the reservation was there already, or
    // the request is refused, it may be a retry whose first attempt recorded the job (its answer lost):
    // that gets the first answer, even when the job has run and settled since.
    const firstAnswer = () => acceptedBefore(deps.store, jobId, requester.userId);
    // Added to its session whichever attempt recorded it (an attempt may have stopped in between), and
    // answered with where the later of the two landed, so `?after=` shows the job in the session.
    const inItsSession = async (accepted: JobAccepted): Promise<JobAccepted> => {
      if (!body.sessionId) return accepted;
      const added = await deps.handle(
        sessionDecider,
        sessionStreamId(body.sessionId),
        { type: 'AddJob', data: { sessionId: body.sessionId, jobId, addedBy: requester.userId } },
        context,
      );
      const addedAt = added.position ?? (await addedToSession(deps.store, body.sessionId, jobId));
      return addedAt && addedAt > accepted.position ? { ...accepted, position: addedAt } : accepted;
    };
    try {
      if (body.sessionId) await requireMembership(deps.store, body.sessionId, requester.userId);
      const reserved = await deps.handle(
        billingDecider,
        billingStreamId(requester.accountId),
        {
          type: 'ReserveCredits',
          data: { accountId: requester.accountId, jobId, amount: cost, maxActiveJobs: deps.maxActiveJobs },
        },
        context,
      );
      const first = reserved.appended.length === 0 ? await firstAnswer() : undefined;
      if (first) return await inItsSession(first);
    } catch (refusal) {
      if (!(refusal instanceof DomainError)) throw refusal;
      const first = await firstAnswer();
      // Refused now, recorded before: the first answer, in its session unless that is refused too (its
      // requester left the session since, say).
      if (first)
        return inItsSession(first).catch((error: unknown) => {
          if (error instanceof DomainError) return first;
          throw error;
        });
      throw refusal;
    }
    const recorded = await deps.handle(
      jobDecider,
      jobStreamId(jobId),
      {
        type: 'RequestJob',
        data: {
          jobId,
          accountId: requester.accountId,
          userId: requester.userId,
          request: body.request,
          inputs,
          cost,
          deadline,
        },
      },
      context,
    );
    const position =
      recorded.position ?? (await deps.store.readStream(jobStreamId(jobId), { maxCount: 1 }))[0]?.position;
    if (!position) throw new Error(`job ${jobId} was recorded but cannot be read back`);
    return inItsSession({
      jobId,
      status: 'requested',
      cost: recorded.state.cost,
      deadline: recorded.state.deadline ?? deadline,
      position,
    });
  };

/** The answer the first attempt gave, when it recorded the job. */
const acceptedBefore = async (
  store: EventStore<KilnEvent>,
  jobId: string,
  userId: string,
): Promise<JobAccepted | undefined> => {
  const [requested] = await store.readStream(jobStreamId(jobId), { maxCount: 1 });
  if (requested?.type !== 'JobRequested' || requested.data.userId !== userId) return undefined;
  return {
    jobId,
    status: 'requested',
    cost: requested.data.cost,
    deadline: requested.data.deadline,
    position: requested.position,
  };
};

/** Where a job was added to a session, when it was. */
const addedToSession = async (store: EventStore<KilnEvent>, sessionId: string, jobId: string) =>
  (await store.readStream(sessionStreamId(sessionId))).find(
    (event) => event.type === 'SessionJobAdded' && event.data.jobId === jobId,
  )?.position;

const requireMembership = async (store: EventStore<KilnEvent>, sessionId: string, userId: string) => {
  const session = await readState(store, sessionDecider, sessionStreamId(sessionId));
  if (!session.opened) throw new DomainError('not_found', 'no such session');
  if (!session.members.has(userId))
    throw new DomainError('forbidden', 'only members of the session can add jobs to it');
};
