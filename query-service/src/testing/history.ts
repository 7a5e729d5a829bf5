import { deterministicEventId } from '@kiln/contracts/event-ids';
import type { Actor } from '@kiln/contracts/envelope';
import type { KilnEvent } from '@kiln/contracts/events';
import { billingStreamId, jobStreamId, providerStreamId, sessionStreamId } from '@kiln/contracts/streams';
import type { EventStore } from '@kiln/event-store/port';

/** One event of a made-up but lawful history, and the stream it goes to. */
export type HistoryItem = { streamId: string; event: KilnEvent };

export type HistoryShape = {
  accounts: number;
  jobsPerAccount: number;
  sessions: number;
  seed: number;
};

/** mulberry32: a small seeded generator, so a history is the same every run. */
const seeded = (seed: number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
};

/**
 * A history with what the read side has to fold: accounts with grants, jobs that run, fail, get canceled
 * or finish with artifacts (each with its reservation captured or released), shared sessions that people
 * join and leave and add jobs to, and provider breaker trips. The timelines are interleaved at random
 * (seeded), each one in its own order, the way concurrent users would write them.
 */
export const generateHistory = (shape: HistoryShape): HistoryItem[] => {
  const random = seeded(shape.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const at = () => new Date((clock += 1 + Math.floor(random() * 5))).toISOString();
  let counter = 0;
  const item = (
    streamId: string,
    type: string,
    data: Record<string, unknown>,
    actor: Actor,
  ): HistoryItem => ({
    streamId,
    event: {
      id: deterministicEventId(`history/${shape.seed}/${(counter += 1)}`),
      type,
      data,
      metadata: { correlationId: `history-${counter}`, causationId: null, actor, at: '' },
    } as unknown as KilnEvent,
  });
  const system: Actor = { kind: 'system', id: 'history' };
  const timelines: HistoryItem[][] = [];
  const users = Array.from({ length: shape.accounts }, (_, index) => ({
    userId: `u_${shape.seed}_${index}`,
    accountId: `a_${shape.seed}_${index}`,
  }));
  const sessionIds = Array.from({ length: shape.sessions }, (_, index) => `s_${shape.seed}_${index}`);

  for (const [index, sessionId] of sessionIds.entries()) {
    const owner = users[index % users.length] ?? users[0];
    if (!owner) break;
    const stream = sessionStreamId(sessionId);
    const timeline = [
      item(stream, 'SessionOpened', { sessionId, title: `session ${index}`, ownerId: owner.userId }, system),
      item(stream, 'SessionMemberJoined', { sessionId, userId: owner.userId, displayName: 'Owner' }, system),
    ];
    for (const guest of users.filter(() => random() < 0.3)) {
      if (guest.userId === owner.userId) continue;
      timeline.push(
        item(
          stream,
          'SessionMemberJoined',
          { sessionId, userId: guest.userId, displayName: 'Guest' },
          system,
        ),
      );
      if (random() < 0.3)
        timeline.push(item(stream, 'SessionMemberLeft', { sessionId, userId: guest.userId }, system));
    }
    timelines.push(timeline);
  }

  for (const user of users) {
    const billing = billingStreamId(user.accountId);
    const actor: Actor = { kind: 'user', id: user.userId };
    const cost = 2;
    // The account's jobs share its billing stream, so they run one after another in its own timeline.
    const jobs: HistoryItem[] = [
      item(billing, 'BillingAccountOpened', { accountId: user.accountId, ownerId: user.userId }, system),
      item(
        billing,
        'CreditsGranted',
        {
          accountId: user.accountId,
          amount: cost * shape.jobsPerAccount + 10,
          reason: 'credits to start with',
          grantedBy: 'u_admin',
          idempotencyKey: `grant-${user.accountId}`,
        },
        { kind: 'admin', id: 'u_admin' },
      ),
    ];
    for (let jobIndex = 0; jobIndex < shape.jobsPerAccount; jobIndex += 1) {
      const jobId = `j_${user.accountId}_${jobIndex}`;
      const job = jobStreamId(jobId);
      const accountId = user.accountId;
      jobs.push(
        item(billing, 'CreditsReserved', { accountId, jobId, amount: cost }, actor),
        item(
          job,
          'JobRequested',
          {
            jobId,
            accountId,
            userId: user.userId,
            request: {
              kind: 'image',
              modelId: 'kiln-local-image',
              prompt: `a kiln, take ${jobIndex}`,
              width: 512,
              height: 512,
              count: 1,
            },
            inputs: [],
            cost,
            deadline: '2027-01-01T00:00:00.000Z',
          },
          actor,
        ),
      );
      const sessionId = sessionIds.length > 0 && random() < 0.3 ? pick(sessionIds) : undefined;
      if (sessionId)
        jobs.push(
          item(
            sessionStreamId(sessionId),
            'SessionJobAdded',
            { sessionId, jobId, addedBy: user.userId },
            actor,
          ),
        );
      const provider = { kind: 'provider', id: 'local' } as const;
      jobs.push(
        item(
          job,
          'JobProviderSubmitted',
          { jobId, provider: 'local', providerJobId: `p-${jobId}`, attempt: 1, idempotencyKey: `${jobId}/1` },
          system,
        ),
        item(job, 'JobProgressed', { jobId, step: 'rendering', progress: 0.5, log: 'half way' }, provider),
      );
      const fate = random();
      if (fate < 0.15) {
        jobs.push(
          item(
            job,
            'JobFailed',
            { jobId, code: 'provider_error', message: 'the provider gave up', retryable: false },
            system,
          ),
          item(
            billing,
            'CreditsReleased',
            { accountId, jobId, amount: cost, reason: 'the job failed' },
            system,
          ),
        );
      } else if (fate < 0.25) {
        jobs.push(
          item(job, 'JobCancelRequested', { jobId, reason: 'changed my mind' }, actor),
          item(job, 'JobCanceled', { jobId }, system),
          item(
            billing,
            'CreditsReleased',
            { accountId, jobId, amount: cost, reason: 'the job was canceled' },
            system,
          ),
        );
      } else {
        jobs.push(
          item(
            job,
            'JobSucceeded',
            { jobId, provider: 'local', outputs: [{ index: 0, url: `http://127.0.0.1:1/${jobId}.png` }] },
            provider,
          ),
          item(
            job,
            'JobArtifactsStored',
            {
              jobId,
              artifacts: (['original', 'thumbnail'] as const).map((variant) => ({
                artifactId: `${jobId}-0-${variant}`,
                outputIndex: 0,
                variant,
                storageKey: `${jobId}/0/${variant}.webp`,
                contentType: 'image/webp',
                size: 1_000,
                width: variant === 'original' ? 512 : 128,
                height: variant === 'original' ? 512 : 128,
                sha256: 'c'.repeat(64),
              })),
            },
            system,
          ),
          item(billing, 'CreditsCaptured', { accountId, jobId, amount: cost }, system),
          item(job, 'JobCompleted', { jobId }, system),
        );
      }
    }
    timelines.push(jobs);
  }

  const breaker = providerStreamId('local');
  timelines.push(
    Array.from({ length: 3 }, () => [
      item(breaker, 'ProviderLimitHit', { provider: 'local', limit: 'rate', retryAfterMs: 1000 }, system),
      item(
        breaker,
        'ProviderBreakerOpened',
        { provider: 'local', consecutiveFailures: 5, halfOpenAfterMs: 30_000 },
        system,
      ),
      item(breaker, 'ProviderBreakerHalfOpened', { provider: 'local' }, system),
      item(breaker, 'ProviderBreakerClosed', { provider: 'local' }, system),
    ]).flat(),
  );

  // Interleave the timelines at random, each in its own order; a session's jobs come after it opened.
  const sessionsFirst = timelines.splice(0, sessionIds.length).flat();
  const merged: HistoryItem[] = [...sessionsFirst];
  const cursors = timelines.map(() => 0);
  let open = timelines.map((_, index) => index);
  while (open.length > 0) {
    const chosen = pick(open);
    const timeline = timelines[chosen] ?? [];
    const next = timeline[cursors[chosen] ?? 0];
    if (next) merged.push(next);
    cursors[chosen] = (cursors[chosen] ?? 0) + 1;
    if ((cursors[chosen] ?? 0) >= timeline.length) open = open.filter((index) => index !== chosen);
  }
  for (const { event } of merged) event.metadata.at = at();
  return merged;
};

/** Appends a history in its order, consecutive events of one stream together. */
export const appendHistory = async (store: EventStore<KilnEvent>, history: readonly HistoryItem[]) => {
  let run: HistoryItem[] = [];
  const flush = async () => {
    const first = run[0];
    if (first)
      await store.appendToStream(
        first.streamId,
        run.map(({ event }) => event),
      );
    run = [];
  };
  for (const item of history) {
    if (run[0] && run[0].streamId !== item.streamId) await flush();
    run.push(item);
  }
  await flush();
};
