import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorEnvelope } from '@kiln/contracts/http/envelope';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { commandsOf } from '#src/testing/commands.ts';
import { startQueryService, type QueryServiceUnderTest } from '#src/testing/harness.ts';

let kiln: CommandServiceUnderTest;
let query: QueryServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
  query = await startQueryService(kiln.schemas, { AFTER_WAIT_MS: '5000' });
});
afterAll(async () => {
  await query.stop();
  await kiln.stop();
});

const ask = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${query.url}${path}`, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
};

describe('answers in the error envelope', () => {
  it('says what is wrong with the input in a 400, under the correlation id the caller sent', async () => {
    const { cookie } = await kiln.signUp();
    const answer = await ask('/v1/jobs?status=bogus&limit=500', { cookie, 'x-correlation-id': 'qa-400.1' });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('x-correlation-id')).toBe('qa-400.1');
    const { error } = ErrorEnvelope.parse(answer.body);
    expect(error).toMatchObject({ code: 'validation_failed', retryable: false, correlationId: 'qa-400.1' });
    expect(error.message).toEqual(expect.any(String));
    const paths = (error.details as Array<{ path: string }>).map((detail) => detail.path).sort();
    expect(paths).toEqual(['query.limit', 'query.status']);

    const cursor = ErrorEnvelope.parse((await ask('/v1/jobs?cursor=forged', { cookie })).body);
    expect(cursor.error).toMatchObject({
      code: 'validation_failed',
      details: [{ path: 'query.cursor', message: 'unknown cursor' }],
    });
  });

  it('answers what is not yours, or not there, with a 404 that tells them apart in nothing', async () => {
    const owner = await kiln.signUp();
    await kiln.grant(owner.user.accountId, 10);
    const job = await commandsOf(kiln).requestJob(owner.cookie);
    const stranger = await kiln.signUp();
    const theirs = await ask(`/v1/jobs/${job.jobId}?after=${job.position}`, { cookie: stranger.cookie });
    const none = await ask('/v1/jobs/j_no_such_job', { cookie: stranger.cookie });
    for (const answer of [theirs, none]) {
      expect(answer.status).toBe(404);
      const { error } = ErrorEnvelope.parse(answer.body);
      expect(error).toMatchObject({ code: 'not_found', message: 'no such job', retryable: false });
      // Made at the door when the caller sent none, and sent back.
      expect(error.correlationId).toBe(answer.headers.get('x-correlation-id'));
    }
    expect(theirs.body.error.correlationId).not.toBe(none.body.error.correlationId);

    const route = ErrorEnvelope.parse((await ask('/v1/nothing-here', { cookie: stranger.cookie })).body);
    expect(route.error).toMatchObject({ code: 'not_found', message: 'no route for GET /v1/nothing-here' });
  });

  it('takes an API token like the command API does, and answers 401 without one', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const job = await commandsOf(kiln).requestJob(cookie);
    const created = await kiln.call('POST', '/v1/accounts/tokens', { cookie, body: { name: 'a program' } });
    expect(created.status).toBe(201);
    const bearer = { authorization: `Bearer ${created.body.data.token as string}` };
    const mine = await ask(`/v1/jobs?after=${job.position}`, bearer);
    expect(mine.status).toBe(200);
    expect(mine.body.data.items.map((item: { jobId: string }) => item.jobId)).toEqual([job.jobId]);

    for (const headers of [{}, { authorization: 'Bearer kiln_not_a_token' }, { authorization: 'Basic x' }]) {
      const refused = await ask('/v1/jobs', headers);
      expect(refused.status).toBe(401);
      expect(ErrorEnvelope.parse(refused.body).error.code).toBe('unauthenticated');
    }
  });
});
