import type { Position } from '@kiln/contracts/position';
import type { CommandDatabase } from '#src/adapters/commandDatabase.ts';

export type Stage = 'reserved' | 'requested' | 'submitted' | 'cancel_requested' | 'succeeded';

export type JobWorkItem = {
  jobId: string;
  accountId: string;
  stage: Stage;
  modelId: string | null;
  provider: string | null;
  providerJobId: string | null;
  attempts: number;
  deadline: Date;
  /** The position of the event that last moved the row: a worker's "later" only stands if nothing moved it since. */
  lastPosition: string;
};

type Row = {
  job_id: string;
  account_id: string;
  stage: Stage;
  model_id: string | null;
  provider: string | null;
  provider_job_id: string | null;
  attempts: number;
  deadline: Date;
  last_position: string;
};

const toItem = (row: Row): JobWorkItem => ({
  jobId: row.job_id,
  accountId: row.account_id,
  stage: row.stage,
  modelId: row.model_id,
  provider: row.provider,
  providerJobId: row.provider_job_id,
  attempts: row.attempts,
  deadline: row.deadline,
  lastPosition: row.last_position,
});

/**
 * The work list of the process managers: one row per job between its reservation and its end, saying
 * what stage it is in and when it is next due. Rows change only from events (each change guarded by the
 * event's position, so a replay changes nothing) and from leases taken by workers.
 */
export const createJobWork = ({ pool, schema }: CommandDatabase) => {
  const table = `${schema}.job_work`;
  return {
    async reserved(jobId: string, accountId: string, deadline: Date, position: Position): Promise<void> {
      await pool.query(
        `insert into ${table} (job_id, account_id, stage, deadline, last_position) values ($1, $2, 'reserved', $3, $4)
         on conflict (job_id) do nothing`,
        [jobId, accountId, deadline, position],
      );
    },

    async requested(
      item: { jobId: string; accountId: string; modelId: string; provider: string; deadline: Date },
      position: Position,
    ) {
      await pool.query(
        `insert into ${table} (job_id, account_id, stage, model_id, provider, deadline, due_at, last_position)
         values ($1, $2, 'requested', $3, $4, $5, now(), $6)
         on conflict (job_id) do update set stage = 'requested', model_id = $3, provider = $4, deadline = $5, due_at = now(),
           last_position = $6
         where ${table}.last_position < $6`,
        [item.jobId, item.accountId, item.modelId, item.provider, item.deadline, position],
      );
    },

    /** Moves a job on, unless a later event already did; `stage` may keep a cancel asked for. */
    async moved(
      jobId: string,
      change: { stage?: Stage; providerJobId?: string; attempts?: number; dueInMs?: number },
      position: Position,
    ) {
      await pool.query(
        `update ${table} set
           stage = case when $2::text is null then stage
                        when stage = 'cancel_requested' and $2 = 'submitted' then stage else $2 end,
           provider_job_id = coalesce($3, provider_job_id),
           attempts = greatest(attempts, coalesce($4, attempts)),
           due_at = case when $5::int is null then due_at else now() + make_interval(secs => $5::int / 1000.0) end,
           last_position = $6
         where job_id = $1 and last_position < $6`,
        [
          jobId,
          change.stage ?? null,
          change.providerJobId ?? null,
          change.attempts ?? null,
          change.dueInMs ?? null,
          position,
        ],
      );
    },

    /** The provider delivered: the row waits for the artifacts, and is due when they are overdue. */
    async awaitingArtifacts(jobId: string, deadline: Date, position: Position): Promise<void> {
      await pool.query(
        `update ${table} set stage = 'succeeded', deadline = $2, due_at = $2, last_position = $3
         where job_id = $1 and last_position < $3`,
        [jobId, deadline, position],
      );
    },

    async ended(jobId: string): Promise<void> {
      await pool.query(`delete from ${table} where job_id = $1`, [jobId]);
    },

    /** Takes up to `limit` due items for `leaseMs`; other instances skip them meanwhile. */
    async takeDue(limit: number, leaseMs: number): Promise<JobWorkItem[]> {
      const { rows } = await pool.query<Row>(
        `update ${table} set leased_until = now() + make_interval(secs => $2 / 1000.0)
         where job_id in (
           select job_id from ${table}
           where due_at <= now() and (leased_until is null or leased_until < now())
           order by due_at limit $1 for update skip locked)
         returning job_id, account_id, stage, model_id, provider, provider_job_id, attempts, deadline, last_position`,
        [limit, leaseMs],
      );
      return rows.map(toItem);
    },

    /**
     * Gives a lease back and says when the item is next due, unless an event moved the row meanwhile
     * (say, the job was requested while the worker looked at its reservation): then it is due at once.
     */
    async later(item: JobWorkItem, inMs: number): Promise<void> {
      await pool.query(
        `update ${table} set leased_until = null,
           due_at = case when last_position = $3 then now() + make_interval(secs => $2 / 1000.0) else least(due_at, now()) end
         where job_id = $1`,
        [item.jobId, inMs, item.lastPosition],
      );
    },

    async byProviderJob(provider: string, providerJobId: string): Promise<JobWorkItem | undefined> {
      const { rows } = await pool.query<Row>(
        `select job_id, account_id, stage, model_id, provider, provider_job_id, attempts, deadline, last_position
         from ${table} where provider = $1 and provider_job_id = $2`,
        [provider, providerJobId],
      );
      return rows[0] ? toItem(rows[0]) : undefined;
    },
  };
};

export type JobWork = ReturnType<typeof createJobWork>;
