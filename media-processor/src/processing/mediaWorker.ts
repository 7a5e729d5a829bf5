import pLimit from 'p-limit';
import type { KilnEvent } from '@kiln/contracts/events';
import type { JobFailureCode } from '@kiln/contracts/job/events';
import type { EventStore } from '@kiln/event-store/port';
import type { Logger } from '@kiln/service-kit/logger';
import type { MediaMetrics } from '#src/metrics.ts';
import { jobFailureCodeOf, MediaFailure } from '#src/pipeline/failures.ts';
import { storeArtifacts } from '#src/pipeline/artifacts.ts';
import type { MediaStore } from '#src/storage/mediaStore.ts';
import { awaitsArtifacts, recordOutcome } from '#src/processing/jobOutcome.ts';
import type { PendingCompletion, PendingCompletions } from '#src/processing/pending.ts';

export type MediaWorkerOptions = {
  store: EventStore<KilnEvent>;
  media: MediaStore;
  pending: PendingCompletions;
  metrics: MediaMetrics;
  logger: Logger;
  /**
   * Images being made at once (decoded, resized, encoded): the bound on CPU and on decoded pixels. Twice
   * as many jobs are taken at once, so that downloads, stores and appends go on around the making.
   */
  concurrency: number;
  download: { timeoutMs: number; maxBytes: number };
  leaseMs: number;
  /**
   * Downloads that fail for a passing reason are tried this many times before the job fails (its failure
   * then `retryable`: the same output may be had later).
   */
  maxAttempts?: number;
  tickMs?: number;
};

const failureText: Partial<Record<JobFailureCode, string>> = {
  output_invalid: 'the result is not an image or video Kiln can read',
  output_too_large: 'the result is larger than Kiln accepts',
  provider_unavailable: "the result could not be fetched from the provider's storage",
};

/** Jobs taken at once for each image being made: one making, one downloading or storing around it. */
export const JOBS_PER_MAKING_SLOT = 2;

/**
 * Takes completions off the work list, at most `JOBS_PER_MAKING_SLOT × concurrency` at once: downloads each
 * output, makes its variants (at most `concurrency` at once), stores them and appends the job's artifacts
 * (or its failure for a bad output). A burst waits in the list, not in memory.
 */
export const startMediaWorker = (options: MediaWorkerOptions) => {
  const { store, media, pending, metrics, logger } = options;
  const jobsAtOnce = options.concurrency * JOBS_PER_MAKING_SLOT;
  const limit = pLimit(options.concurrency);
  const making = <Result>(make: () => Promise<Result>) =>
    limit(async () => {
      metrics.making.inc();
      try {
        return await make();
      } finally {
        metrics.making.dec();
      }
    });
  const maxAttempts = options.maxAttempts ?? 5;
  const log = logger.child({ worker: 'media' });
  let running = 0;
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  /** Wakes the loop early: a slot came free, so the next item need not wait for the tick. */
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const processOne = async (completion: PendingCompletion) => {
    const stopTimer = metrics.duration.startTimer();
    const context = { correlationId: completion.correlationId, causeId: completion.causeId };
    try {
      const job = await awaitsArtifacts(store, completion.jobId);
      if (!job.waiting) return void (await pending.done(completion.jobId));
      const artifacts = await storeArtifacts({
        jobId: completion.jobId,
        outputs: completion.outputs,
        store: media,
        download: options.download,
        making,
      });
      await recordOutcome(store, completion.jobId, { kind: 'stored', artifacts }, context, job.revision);
      await pending.done(completion.jobId);
      metrics.processed.inc();
      stopTimer({ outcome: 'stored' });
    } catch (error) {
      if (error instanceof MediaFailure && (!error.retryable || completion.attempts >= maxAttempts)) {
        const code = jobFailureCodeOf(error);
        const message = failureText[code] ?? 'the result could not be processed';
        const outcome = { kind: 'failed', code, message, retryable: error.retryable } as const;
        await recordOutcome(store, completion.jobId, outcome, context);
        await pending.done(completion.jobId);
        metrics.failed.inc({ code });
        stopTimer({ outcome: 'failed' });
        log.info({ jobId: completion.jobId, code }, 'job failed for its output');
        return;
      }
      log.warn(
        { err: error, jobId: completion.jobId, attempt: completion.attempts },
        'processing failed; trying again later',
      );
      stopTimer({ outcome: 'retried' });
      await pending
        .later(completion.jobId, Math.min(60_000, 500 * 2 ** completion.attempts))
        .catch(() => undefined);
    }
  };

  let depthCheckedAt = 0;
  const loop = async () => {
    while (!stopped) {
      try {
        if (Date.now() - depthCheckedAt > 1_000) {
          metrics.queueDepth.set(await pending.depth());
          depthCheckedAt = Date.now();
        }
        const taken = await pending.take(jobsAtOnce - running, options.leaseMs);
        for (const completion of taken) {
          running += 1;
          metrics.inFlight.set(running);
          const work = processOne(completion).finally(() => {
            running -= 1;
            metrics.inFlight.set(running);
            inFlight.delete(work);
            wake?.();
          });
          inFlight.add(work);
        }
        // Full: wait for a slot. Not full but nothing due: look again after the tick (or when a slot frees).
        await pause(taken.length > 0 && running < jobsAtOnce ? 0 : (options.tickMs ?? 200));
      } catch (error) {
        log.error({ err: error }, 'media worker loop failed');
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
  };
  const looping = loop();
  return {
    stop: async () => {
      stopped = true;
      await looping;
      await Promise.allSettled([...inFlight]);
    },
  };
};
