import type { JobOutput } from '@kiln/contracts/job/events';
import type { MediaDatabase } from '#src/database.ts';

export type PendingCompletion = {
  jobId: string;
  outputs: JobOutput[];
  correlationId: string;
  /** The id of the JobSucceeded event: what the artifacts event is caused by. */
  causeId: string;
  attempts: number;
};

type Row = {
  job_id: string;
  outputs: JobOutput[];
  correlation_id: string;
  cause_id: string;
  attempts: number;
};

/**
 * The work list: one row per succeeded job whose outputs are not processed yet. Rows are added from
 * events (idempotently) and leased by workers, so a crash mid-job leaves the row to be taken again.
 */
export const createPendingCompletions = ({ pool, schema }: MediaDatabase) => {
  const table = `${schema}.pending`;
  return {
    async add(completion: Omit<PendingCompletion, 'attempts'>): Promise<void> {
      await pool.query(
        `insert into ${table} (job_id, outputs, correlation_id, cause_id) values ($1, $2, $3, $4) on conflict do nothing`,
        [completion.jobId, JSON.stringify(completion.outputs), completion.correlationId, completion.causeId],
      );
    },

    async take(limit: number, leaseMs: number): Promise<PendingCompletion[]> {
      if (limit <= 0) return [];
      const { rows } = await pool.query<Row>(
        `update ${table} set leased_until = now() + make_interval(secs => $2 / 1000.0), attempts = attempts + 1
         where job_id in (
           select job_id from ${table}
           where due_at <= now() and (leased_until is null or leased_until < now())
           order by due_at limit $1 for update skip locked)
         returning job_id, outputs, correlation_id, cause_id, attempts`,
        [limit, leaseMs],
      );
      return rows.map((row) => ({
        jobId: row.job_id,
        outputs: row.outputs,
        correlationId: row.correlation_id,
        causeId: row.cause_id,
        attempts: row.attempts,
      }));
    },

    async done(jobId: string): Promise<void> {
      await pool.query(`delete from ${table} where job_id = $1`, [jobId]);
    },

    async later(jobId: string, inMs: number): Promise<void> {
      await pool.query(
        `update ${table} set leased_until = null, due_at = now() + make_interval(secs => $2 / 1000.0) where job_id = $1`,
        [jobId, inMs],
      );
    },

    /** Completions waiting: on the list and not held by a worker (a lapsed lease waits again). */
    async depth(): Promise<number> {
      const { rows } = await pool.query<{ count: string }>(
        `select count(*) from ${table} where leased_until is null or leased_until < now()`,
      );
      return Number(rows[0]?.count ?? 0);
    },
  };
};

export type PendingCompletions = ReturnType<typeof createPendingCompletions>;
