import { randomUUID } from 'node:crypto';
import type { CommandServiceUnderTest } from '@kiln/command-service/testing/harness';

const answered = <Data>(
  what: string,
  answer: { status: number; body: any },
  status = [200, 201, 202],
): Data => {
  if (!status.includes(answer.status))
    throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.data as Data;
};

/** The write side's commands the read-side tests need, through the command service's HTTP API. */
export const commandsOf = (kiln: CommandServiceUnderTest) => ({
  requestJob: async (cookie: string, prompt = 'a kiln at dawn') =>
    answered<{ jobId: string; position: string; cost: number }>(
      'request a job',
      await kiln.call('POST', '/v1/jobs', {
        cookie,
        headers: { 'idempotency-key': randomUUID() },
        body: {
          request: { kind: 'image', modelId: 'kiln-local-image', prompt, width: 512, height: 512, count: 1 },
        },
      }),
    ),
  openSession: async (cookie: string, title: string) =>
    answered<{ sessionId: string }>(
      'open a session',
      await kiln.call('POST', '/v1/sessions', { cookie, body: { title } }),
    ).sessionId,
  /** An invite by a member, taken up by someone else. */
  join: async (sessionId: string, memberCookie: string, joinerCookie: string) => {
    const invite = answered<{ token: string }>(
      'invite',
      await kiln.call('POST', `/v1/sessions/${sessionId}/invites`, { cookie: memberCookie }),
    );
    // Where the join landed: a test reads after it (`?after=`), not after the head of `$all`, which
    // lags behind while any transaction on the server, a neighbour's included, is still open.
    return answered<{ position: string }>(
      'join',
      await kiln.call('POST', '/v1/sessions/join', { cookie: joinerCookie, body: { token: invite.token } }),
    ).position;
  },
  leave: async (sessionId: string, cookie: string) =>
    answered<{ position: string }>(
      'leave',
      await kiln.call('POST', `/v1/sessions/${sessionId}/leave`, { cookie }),
    ),
  addJob: async (sessionId: string, jobId: string, cookie: string) =>
    answered<{ position: string }>(
      'add a job',
      await kiln.call('POST', `/v1/sessions/${sessionId}/jobs`, { cookie, body: { jobId } }),
    ),
});
