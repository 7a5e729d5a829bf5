import { createHash, randomBytes } from 'node:crypto';
import type { CreateLocalJob, LocalFailureCode, LocalJobStatus } from '#src/providers/local/api.ts';

/**
 * The local provider's queue: jobs wait for one of `concurrency` workers, then run through progress
 * steps over `delayMs`, then render (or fail, `failureRate` of the time, with a plausible error).
 */

export type LocalOutput = { path: string; contentType: string };

export type LocalJob = CreateLocalJob & {
  id: string;
  status: LocalJobStatus;
  createdAt: Date;
  progress: number | null;
  step: string | null;
  logs: string[];
  outputs: LocalOutput[];
  error: { code: LocalFailureCode; message: string } | null;
};

export type LocalJobsOptions = {
  delayMs: number;
  failureRate: number;
  random: () => number;
  concurrency: number;
  render: (job: LocalJob) => Promise<LocalOutput[]>;
  onChange: (job: LocalJob) => void;
};

const STEPS = 4;

const FAILURES: Array<{ code: LocalFailureCode; message: string }> = [
  { code: 'out_of_memory', message: 'the worker ran out of GPU memory while sampling' },
  { code: 'worker_lost', message: 'the worker stopped answering in the middle of the job' },
  { code: 'content_filtered', message: 'the safety checker flagged the output as NSFW' },
];

const isFinished = (job: LocalJob) => !['queued', 'running'].includes(job.status);

export const createLocalJobs = (options: LocalJobsOptions) => {
  const jobs = new Map<string, LocalJob>();
  const byKey = new Map<string, { jobId: string; fingerprint: string }>();
  const waiting: LocalJob[] = [];
  const timers = new Map<string, NodeJS.Timeout[]>();
  let running = 0;

  const change = (job: LocalJob, update: Partial<LocalJob>, log?: string) => {
    Object.assign(job, update);
    if (log) job.logs.push(`${new Date().toISOString()} ${log}`);
    options.onChange(job);
  };

  const later = (job: LocalJob, ms: number, run: () => void | Promise<void>) => {
    const timer = setTimeout(() => void run(), ms);
    timers.set(job.id, [...(timers.get(job.id) ?? []), timer]);
  };

  const release = (job: LocalJob) => {
    for (const timer of timers.get(job.id) ?? []) clearTimeout(timer);
    timers.delete(job.id);
    running -= 1;
    pump();
  };

  const finish = async (job: LocalJob) => {
    try {
      const outputs = await options.render(job);
      if (job.status !== 'running') return;
      change(
        job,
        { status: 'succeeded', progress: 1, step: 'done', outputs },
        `rendered ${outputs.length} file(s)`,
      );
    } catch {
      if (job.status !== 'running') return;
      const error = { code: 'render_failed' as const, message: 'the renderer could not make the output' };
      change(job, { status: 'failed', step: 'failed', error }, error.message);
    }
    release(job);
  };

  const start = (job: LocalJob) => {
    running += 1;
    const failure =
      options.random() < options.failureRate
        ? FAILURES[Math.floor(options.random() * FAILURES.length) % FAILURES.length]
        : undefined;
    change(job, { status: 'running', progress: 0, step: 'starting' }, 'a worker picked up the job');
    const stepMs = options.delayMs / STEPS;
    for (let step = 1; step < STEPS; step += 1) {
      later(job, stepMs * step, () => {
        if (failure && step === 2) {
          change(job, { status: 'failed', step: 'failed', error: failure }, failure.message);
          release(job);
          return;
        }
        const progress = step / STEPS;
        change(
          job,
          { progress, step: `sampling ${step}/${STEPS}` },
          `${Math.round(progress * 100)}%| step ${step}/${STEPS}`,
        );
      });
    }
    later(job, options.delayMs, () => finish(job));
  };

  const pump = () => {
    while (running < options.concurrency && waiting.length > 0) {
      const next = waiting.shift();
      if (next) start(next);
    }
  };

  return {
    /** A new job, or the one made earlier with the same key; a key reused with another body is a conflict. */
    create(body: CreateLocalJob, key: string | undefined): { job: LocalJob; created: boolean } | 'conflict' {
      const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('hex');
      const earlier = key === undefined ? undefined : byKey.get(key);
      if (earlier) {
        const job = jobs.get(earlier.jobId);
        if (earlier.fingerprint !== fingerprint || !job) return 'conflict';
        return { job, created: false };
      }
      const id = `lj_${randomBytes(10).toString('hex')}`;
      const job: LocalJob = {
        ...body,
        id,
        status: 'queued',
        createdAt: new Date(),
        progress: null,
        step: 'queued',
        logs: [],
        outputs: [],
        error: null,
      };
      jobs.set(id, job);
      if (key !== undefined) byKey.set(key, { jobId: id, fingerprint });
      waiting.push(job);
      change(job, {}, `queued behind ${waiting.length - 1} job(s)`);
      pump();
      return { job, created: true };
    },

    get: (id: string): LocalJob | undefined => jobs.get(id),

    queuePosition: (job: LocalJob): number | null => (job.status === 'queued' ? waiting.indexOf(job) : null),

    /** Cancels a queued or running job; a finished one stays as it was. */
    cancel(id: string): LocalJob | undefined {
      const job = jobs.get(id);
      if (!job || isFinished(job)) return job;
      const wasRunning = job.status === 'running';
      const index = waiting.indexOf(job);
      if (index !== -1) waiting.splice(index, 1);
      change(job, { status: 'canceled', step: 'canceled' }, 'canceled at the request of the caller');
      if (wasRunning) release(job);
      return job;
    },

    stop() {
      for (const list of timers.values()) for (const timer of list) clearTimeout(timer);
      timers.clear();
    },
  };
};

export type LocalJobs = ReturnType<typeof createLocalJobs>;
