import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCommandService, type CommandServiceUnderTest } from '@kiln/command-service/testing/harness';
import { loadStates } from '#src/readModels/projectionState.ts';
import { commandsOf } from '#src/testing/commands.ts';
import { mongoUrlWithDatabase, startQueryService, type QueryServiceUnderTest } from '#src/testing/harness.ts';

let kiln: CommandServiceUnderTest;
let projecting: QueryServiceUnderTest;
let readOnly: QueryServiceUnderTest;
let alone: QueryServiceUnderTest;
beforeAll(async () => {
  kiln = await startCommandService();
  projecting = await startQueryService(kiln.schemas, { AFTER_WAIT_MS: '5000' });
  // Another instance of the same deployment that only serves reads, from the same read models.
  readOnly = await startQueryService(kiln.schemas, {
    PROJECTORS: 'false',
    MONGO_URL: mongoUrlWithDatabase(projecting.database),
    AFTER_WAIT_MS: '5000',
  });
  // …and one with read models of its own, where nobody projects.
  alone = await startQueryService(kiln.schemas, { PROJECTORS: 'false', AFTER_WAIT_MS: '1000' });
});
afterAll(async () => {
  await alone.stop();
  await readOnly.stop();
  await projecting.stop();
  await kiln.stop();
});

describe('PROJECTORS=false', () => {
  it('serves reads from the read models another instance projects, and projects nothing itself', async () => {
    const { cookie, user } = await kiln.signUp();
    await kiln.grant(user.accountId, 10);
    const job = await commandsOf(kiln).requestJob(cookie);

    expect(readOnly.service.projectors).toBeUndefined();
    const read = await readOnly.get(`/v1/jobs?after=${job.position}`, cookie);
    expect(read.status).toBe(200);
    expect(read.body.data.items.map((item: { jobId: string }) => item.jobId)).toEqual([job.jobId]);
    const balance = await readOnly.get('/v1/accounts/me/balance', cookie);
    expect(balance.body.data).toMatchObject({ available: 10 - job.cost, reserved: job.cost });

    expect(alone.service.projectors).toBeUndefined();
    expect((await alone.get(`/v1/jobs?after=${job.position}`, cookie)).status).toBe(503);
    const states = await loadStates(alone.service.readModels.db);
    expect(states).toHaveLength(4);
    for (const state of states) expect(state.position).toBeNull();
    expect(await (await alone.service.readModels.collection('jobs')).countDocuments()).toBe(0);
    expect((await alone.get('/v1/accounts/me/balance', cookie)).status).toBe(404);
  });
});
