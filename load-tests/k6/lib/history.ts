// A session's history, made through the API (jobs its members ask for, members leaving and coming back),
// and read back whole from the query service's timeline: the truth a replay is checked against.
import { sleep } from 'k6';
import { config } from './config.ts';
import { dataOf, inChunks, requestAll } from './http.ts';
import { jobBody, JOB_TERMINAL_STATUSES, type Accepted } from './jobs.ts';
import { waitForProjections } from './audit.ts';
import { checkSessionJobs, join, leave, type LoadSession } from './sessions.ts';
import type { LoadUser } from './users.ts';

/** One event of a topic: its position in `$all` and its id. */
export type TruthEntry = [position: string, id: string];

const MAX_TIMELINE_JOBS = 50;

/** Waits (at most `seconds`) until every job has finished, as the read models have it. */
const waitForJobs = (jobIds: string[], seconds: number): void => {
  const deadline = Date.now() + seconds * 1000;
  let pending = jobIds;
  while (pending.length > 0 && Date.now() < deadline) {
    const answers = inChunks(pending, 20).flatMap((chunk) =>
      requestAll(
        chunk.map((jobId) => ({
          method: 'GET',
          url: `${config.queryUrl}/v1/jobs/${jobId}`,
          token: config.adminToken,
          name: 'GET /v1/jobs/:id (admin)',
          expect: [200, 404],
        })),
      ),
    );
    pending = pending.filter((_, index) => {
      const answer = answers[index];
      const status = answer ? dataOf<{ status: string }>(answer)?.status : undefined;
      return !JOB_TERMINAL_STATUSES.includes(status ?? '');
    });
    if (pending.length > 0) sleep(1);
  }
  if (pending.length > 0) throw new Error(`${pending.length} history jobs did not finish in ${seconds} s`);
};

/**
 * Each session's members (after the owner) ask for one job each in it, `jobsPerSession` of them, while
 * every member leaves and joins again `churn` times; then waits until the jobs have finished, and checks
 * that each session has every job accepted for it.
 */
export const buildHistory = (
  users: LoadUser[],
  sessions: LoadSession[],
  options: { jobsPerSession: number; churn: number },
): void => {
  const jobs = sessions.flatMap((session) =>
    session.members
      .slice(1, 1 + Math.min(options.jobsPerSession, MAX_TIMELINE_JOBS))
      .map((member) => ({ session, user: users[member] as LoadUser, member })),
  );
  const accepted: string[] = inChunks(jobs, 20).flatMap((chunk) =>
    requestAll(
      chunk.map(({ session, user, member }) => ({
        method: 'POST',
        url: `${config.commandUrl}/v1/jobs`,
        token: user.token,
        name: 'POST /v1/jobs (history)',
        expect: [202],
        retryConflicts: true,
        headers: { 'idempotency-key': `${config.runId}-history-${session.sessionId}-${member}` },
        body: jobBody(member, session.sessionId),
      })),
    ).map((answer) => dataOf<Accepted>(answer)?.jobId ?? ''),
  );
  for (let round = 0; round < options.churn; round += 1) {
    for (const session of sessions) {
      const members = session.members.slice(1).map((member) => users[member] as LoadUser);
      leave(members, session.sessionId);
      join(members, session.inviteToken);
    }
  }
  waitForJobs(
    accepted.filter((jobId) => jobId !== ''),
    120,
  );
  waitForProjections(60);
  for (const session of sessions) {
    const asked = jobs.flatMap((job, index) => (job.session === session ? [accepted[index] ?? ''] : []));
    checkSessionJobs(users[session.members[0] ?? 0] as LoadUser, session.sessionId, asked.filter(Boolean));
  }
};

/** Every event of a session's timeline, in order (pages of 50). */
export const readTimeline = (reader: LoadUser, session: LoadSession): TruthEntry[] => {
  const entries: TruthEntry[] = [];
  let cursor: string | null = null;
  do {
    const [answer] = requestAll([
      {
        method: 'GET',
        url: `${config.queryUrl}/v1/sessions/${session.sessionId}/timeline?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        token: reader.token,
        name: 'GET /v1/sessions/:id/timeline',
        expect: [200],
      },
    ]);
    const page = answer
      ? dataOf<{
          items: Array<{ event: { id: string; position: string } }>;
          next: string | null;
          truncated: boolean;
        }>(answer)
      : undefined;
    if (!page) throw new Error(`the timeline of session ${session.sessionId} could not be read`);
    if (page.truncated) throw new Error(`the timeline of session ${session.sessionId} is truncated`);
    for (const { event } of page.items) entries.push([event.position, event.id]);
    cursor = page.next;
  } while (cursor);
  return entries;
};
