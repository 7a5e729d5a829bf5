// Shared sessions through the public API: an owner opens one and makes an invite link, the others join.
import { Counter } from 'k6/metrics';
import { config } from './config.ts';
import { dataOf, inChunks, request, requestAll } from './http.ts';
import type { LoadUser } from './users.ts';

/** A job asked for in a session and accepted (202) that the session does not have. */
export const sessionJobsLost = new Counter('session_jobs_lost');

export type LoadSession = {
  sessionId: string;
  /** Where its opening landed in `$all` (the last event of it): a watcher subscribing after it gets the rest. */
  openedAt: string;
  inviteToken: string;
  /** Indexes (into the scenario's users) of its members, the owner first. */
  members: number[];
};

const invite = (owner: LoadUser, sessionId: string): string => {
  const answer = request({
    method: 'POST',
    url: `${config.commandUrl}/v1/sessions/${sessionId}/invites`,
    token: owner.token,
    name: 'POST /v1/sessions/:id/invites',
    expect: [201],
    retryConflicts: true,
  });
  const token = dataOf<{ token: string }>(answer)?.token;
  if (!token) throw new Error(`no invite for session ${sessionId}: ${answer.status}`);
  return token;
};

/** Members join (or join again) with the session's invite token. */
export const join = (users: LoadUser[], inviteToken: string): void => {
  for (const chunk of inChunks(users, 20)) {
    requestAll(
      chunk.map((user) => ({
        method: 'POST',
        url: `${config.commandUrl}/v1/sessions/join`,
        token: user.token,
        name: 'POST /v1/sessions/join',
        expect: [200],
        retryConflicts: true,
        body: { token: inviteToken },
      })),
    );
  }
};

export const leave = (users: LoadUser[], sessionId: string): void => {
  for (const chunk of inChunks(users, 20)) {
    requestAll(
      chunk.map((user) => ({
        method: 'POST',
        url: `${config.commandUrl}/v1/sessions/${sessionId}/leave`,
        token: user.token,
        name: 'POST /v1/sessions/:id/leave',
        expect: [200],
        retryConflicts: true,
      })),
    );
  }
};

/**
 * `count` sessions of `size` members each, from consecutive users: users[0..size) share the first,
 * users[size..2·size) the second, and so on; the first of each opens it.
 */
export const openSessions = (users: LoadUser[], count: number, size: number): LoadSession[] =>
  Array.from({ length: count }, (_, index) => {
    const members = Array.from({ length: size }, (_, member) => index * size + member);
    const owner = users[index * size];
    if (!owner) throw new Error(`not enough users for ${count} sessions of ${size}`);
    const answer = request({
      method: 'POST',
      url: `${config.commandUrl}/v1/sessions`,
      token: owner.token,
      name: 'POST /v1/sessions',
      expect: [201],
      body: { title: `load ${config.runId} session ${index}` },
    });
    const opened = dataOf<{ sessionId: string; position: string }>(answer);
    if (!opened) throw new Error(`the session could not be opened: ${answer.status}`);
    const inviteToken = invite(owner, opened.sessionId);
    join(
      members.slice(1).flatMap((member) => users[member] ?? []),
      inviteToken,
    );
    return { sessionId: opened.sessionId, openedAt: opened.position, inviteToken, members };
  });

/** The jobs a session has, as the query service's read models have them. */
const jobsOfSession = (reader: LoadUser, sessionId: string): string[] =>
  dataOf<{ jobIds: string[] }>(
    request({
      method: 'GET',
      url: `${config.queryUrl}/v1/sessions/${sessionId}`,
      token: reader.token,
      name: 'GET /v1/sessions/:id',
      expect: [200],
    }),
  )?.jobIds ?? [];

/** Every job the session's members asked for in it (once the read models have caught up) is in it. */
export const checkSessionJobs = (reader: LoadUser, sessionId: string, asked: string[]): void => {
  const has = new Set(jobsOfSession(reader, sessionId));
  const lost = asked.filter((jobId) => !has.has(jobId));
  sessionJobsLost.add(lost.length);
  if (lost.length > 0)
    console.warn(
      `session ${sessionId} lacks ${lost.length} of the ${asked.length} jobs asked for in it, e.g. ${lost[0]}`,
    );
};

/** The jobs each of these users has asked for (their first 100), from the read models. */
export const jobsOfUsers = (users: LoadUser[]): string[] =>
  inChunks(users, 20).flatMap((chunk) =>
    requestAll(
      chunk.map((user) => ({
        method: 'GET',
        url: `${config.queryUrl}/v1/jobs?limit=100`,
        token: user.token,
        name: 'GET /v1/jobs',
        expect: [200],
      })),
    ).flatMap(
      (answer) => dataOf<{ items: Array<{ jobId: string }> }>(answer)?.items.map((job) => job.jobId) ?? [],
    ),
  );
