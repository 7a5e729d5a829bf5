import type { KilnEvent } from '@kiln/contracts/events';
import type { RecordedEvent } from '@kiln/event-store/port';
import type { MediaDatabase } from '#src/database.ts';

const accessEvents: ReadonlySet<string> = new Set([
  'JobRequested',
  'SessionJobAdded',
  'SessionMemberJoined',
  'SessionMemberLeft',
]);

/**
 * Who may read a job's files: its owner, and whoever is a member of a session the job was added to. Kept
 * from events (each change idempotent), read with one query per request.
 */
export const createAccessView = ({ pool, schema }: MediaDatabase) => ({
  interestedIn: (event: RecordedEvent<KilnEvent>) => accessEvents.has(event.type),

  async apply(event: RecordedEvent<KilnEvent>): Promise<void> {
    switch (event.type) {
      case 'JobRequested':
        await pool.query(
          `insert into ${schema}.job_owners (job_id, user_id) values ($1, $2) on conflict do nothing`,
          [event.data.jobId, event.data.userId],
        );
        return;
      case 'SessionJobAdded':
        await pool.query(
          `insert into ${schema}.session_jobs (session_id, job_id) values ($1, $2) on conflict do nothing`,
          [event.data.sessionId, event.data.jobId],
        );
        return;
      case 'SessionMemberJoined':
        await pool.query(
          `insert into ${schema}.session_members (session_id, user_id) values ($1, $2) on conflict do nothing`,
          [event.data.sessionId, event.data.userId],
        );
        return;
      case 'SessionMemberLeft':
        await pool.query(`delete from ${schema}.session_members where session_id = $1 and user_id = $2`, [
          event.data.sessionId,
          event.data.userId,
        ]);
        return;
      default:
        return;
    }
  },

  async canRead(userId: string, jobId: string): Promise<boolean> {
    const { rows } = await pool.query<{ allowed: boolean }>(
      `select exists (select 1 from ${schema}.job_owners where job_id = $2 and user_id = $1)
           or exists (select 1 from ${schema}.session_jobs j join ${schema}.session_members m using (session_id)
                      where j.job_id = $2 and m.user_id = $1) as allowed`,
      [userId, jobId],
    );
    return rows[0]?.allowed ?? false;
  },
});

export type AccessView = ReturnType<typeof createAccessView>;
