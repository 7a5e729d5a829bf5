import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicEventId } from '@kiln/contracts/event-ids';
import type { KilnEvent } from '@kiln/contracts/events';
import { billingStreamId, jobStreamId } from '@kiln/contracts/streams';
import { createPostgresEventStore } from '@kiln/event-store/postgres';
import type { EventStore } from '@kiln/event-store/port';
import { testEnv } from '@kiln/stack/testing';
import { billingDecider } from '#src/domain/billing/decide.ts';
import { freePort } from '#src/testing/harness.ts';
import { typesOf } from '#src/testing/waitFor.ts';

const serviceDir = join(import.meta.dirname, '..', '..');
const urls = testEnv();
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const schemas = {
  EVENTSTORE_SCHEMA: `es_crash_${run}`,
  IDENTITY_SCHEMA: `id_crash_${run}`,
  COMMAND_SCHEMA: `cmd_crash_${run}`,
};
const admin = { email: 'crash-admin@kiln.test', password: `crash-${randomUUID()}` };
const terminal = new Set(['JobCompleted', 'JobFailed', 'JobCanceled', 'JobTimedOut']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let mediaDir: string;
let store: EventStore<KilnEvent>;
let provider: ChildProcess;
let service: ChildProcess | undefined;
let base: string;
let serviceEnv: NodeJS.ProcessEnv;

const waitReady = async () => {
  for (let tries = 0; tries < 200; tries += 1) {
    if ((await fetch(`${base}/readyz`).catch(() => undefined))?.ok) return;
    await sleep(50);
  }
  throw new Error('the command service did not come up');
};

/** Exits nobody asked for: a service that dies on its own is a failure of its own. */
const unexpectedExits: string[] = [];
let serviceLog = '';

const startService = async () => {
  const started = spawn(process.execPath, ['src/main.ts'], {
    cwd: serviceDir,
    env: serviceEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => void (serviceLog = (serviceLog + chunk.toString()).slice(-20_000));
  started.stdout.on('data', keep);
  started.stderr.on('data', keep);
  started.once('exit', (code, signal) => {
    if (signal !== 'SIGKILL') unexpectedExits.push(`exit ${code} ${signal}: ${serviceLog.slice(-2_000)}`);
  });
  service = started;
  await waitReady();
};

/** kill -9: no shutdown hooks, no flushing, connections cut mid-statement. */
const crash = async () => {
  const dying = service;
  if (!dying || dying.exitCode !== null || dying.signalCode !== null) return;
  const exited = new Promise((resolve) => dying.once('exit', resolve));
  dying.kill('SIGKILL');
  await exited;
};

beforeAll(async () => {
  mediaDir = await mkdtemp(join(tmpdir(), 'kiln-crash-'));
  store = await createPostgresEventStore<KilnEvent>({
    connectionString: urls.eventStoreUrl,
    schema: schemas.EVENTSTORE_SCHEMA,
  });
  const [providerPort, servicePort] = [await freePort(), await freePort()];
  const webhookSecret = 'whsec_Y3Jhc2gtdGVzdC1sb2NhbC1wcm92aWRlcg==';
  // The provider is another system: it lives on while Kiln dies and comes back.
  provider = spawn(process.execPath, ['src/providers/local/main.ts'], {
    cwd: serviceDir,
    env: {
      ...process.env,
      LOCAL_PROVIDER_PORT: String(providerPort),
      LOCAL_PROVIDER_OUTPUT_DIR: join(mediaDir, 'provider'),
      LOCAL_PROVIDER_DELAY_MS: '600',
      LOCAL_PROVIDER_FAILURE_RATE: '0.25',
      LOCAL_PROVIDER_CONCURRENCY: '4',
      LOCAL_PROVIDER_WEBHOOK_SECRET: webhookSecret,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  base = `http://127.0.0.1:${servicePort}`;
  serviceEnv = {
    ...process.env,
    PORT: String(servicePort),
    PUBLIC_URL: base,
    EVENTSTORE_URL: urls.eventStoreUrl,
    REDIS_URL: urls.redisUrl,
    REDIS_PREFIX: `crash-${run}`,
    MEDIA_DIR: join(mediaDir, 'service'),
    PAYMENT_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    SEED_ADMIN_EMAIL: admin.email,
    SEED_ADMIN_PASSWORD: admin.password,
    LOCAL_PROVIDER_URL: `http://127.0.0.1:${providerPort}`,
    LOCAL_PROVIDER_WEBHOOK_SECRET: webhookSecret,
    POLL_EVERY_MS: '200',
    WORK_LEASE_MS: '3000',
    LOG_LEVEL: 'error',
    API_REQUESTS_PER_MINUTE: '100000',
    JOB_CREATIONS_PER_MINUTE: '100000',
    ...schemas,
  };
  await startService();
});

afterAll(async () => {
  await crash();
  provider.kill('SIGTERM');
  await store.close();
  const cleanup = new pg.Client({ connectionString: urls.eventStoreUrl });
  await cleanup.connect();
  for (const schema of Object.values(schemas)) await cleanup.query(`drop schema if exists ${schema} cascade`);
  await cleanup.end();
  await rm(mediaDir, { recursive: true, force: true });
});

const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '',
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as any,
  };
};

/** A client that retries with the same Idempotency-Key until Kiln answers, whatever happens to Kiln. */
const requestJobUntilAnswered = async (cookie: string, key: string) => {
  for (;;) {
    try {
      const answer = await post(
        '/v1/jobs',
        {
          request: {
            kind: 'image',
            modelId: 'kiln-local-image',
            prompt: `crash ${key}`,
            width: 256,
            height: 256,
            count: 1,
          },
        },
        { cookie, 'idempotency-key': key },
      );
      if (answer.status === 202) return answer.body.data.jobId as string;
      const stillRunning = answer.status === 409 && answer.retryAfter !== null;
      if (!stillRunning && answer.status < 500)
        throw new Error(`job request refused: ${answer.status} ${JSON.stringify(answer.body)}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('job request refused')) throw error;
    }
    await sleep(100);
  }
};

describe('kill -9 between reservation and completion', () => {
  it(
    'finishes or fails every job after restarts, and never loses or double-charges credits',
    { timeout: 180_000 },
    async () => {
      const adminCookie = (await post('/v1/accounts/sign-in', admin)).cookie;
      const accounts: Array<{ accountId: string; cookie: string }> = [];
      for (let index = 0; index < 3; index += 1) {
        const signedUp = await post('/v1/accounts/sign-up', {
          email: `crash-${run}-${index}@kiln.test`,
          password: `pw-${randomUUID()}`,
          displayName: `Crash ${index}`,
        });
        const accountId: string = signedUp.body.data.user.accountId;
        await post(
          `/v1/admin/accounts/${accountId}/grants`,
          { amount: 100, reason: 'crash test credits' },
          { cookie: adminCookie, 'idempotency-key': randomUUID() },
        );
        accounts.push({ accountId, cookie: signedUp.cookie });
      }

      const jobIds: string[] = [];
      // The media processor's part: store artifacts for every job that succeeded (once: a fixed event id).
      let mediaRunning = true;
      const media = (async () => {
        while (mediaRunning) {
          for (const jobId of jobIds) {
            const events = await store.readStream(jobStreamId(jobId));
            if (
              !events.some((e) => e.type === 'JobSucceeded') ||
              events.some((e) => e.type === 'JobArtifactsStored' || e.type === 'JobFailed')
            )
              continue;
            await store
              .appendToStream(jobStreamId(jobId), [
                {
                  id: deterministicEventId(`crash-test/${jobId}/artifacts`),
                  type: 'JobArtifactsStored',
                  data: {
                    jobId,
                    artifacts: [
                      {
                        artifactId: `${jobId}-0`,
                        outputIndex: 0,
                        variant: 'original',
                        storageKey: `${jobId}/0.png`,
                        contentType: 'image/png',
                        size: 1,
                        width: 256,
                        height: 256,
                        sha256: 'b'.repeat(64),
                      },
                    ],
                  },
                  metadata: {
                    correlationId: 'crash-media',
                    causationId: null,
                    actor: { kind: 'system', id: 'media-processor' },
                    at: new Date().toISOString(),
                  },
                },
              ])
              .catch(() => undefined);
          }
          await sleep(150);
        }
      })();

      const creating = Promise.all(
        accounts.flatMap(({ cookie }) =>
          Array.from({ length: 4 }, async () => {
            jobIds.push(await requestJobUntilAnswered(cookie, randomUUID()));
          }),
        ),
      );
      // Three crashes at unlucky moments: while jobs are being created, submitted, rendered and settled.
      for (const pause of [150, 700, 1_200]) {
        await sleep(pause);
        await crash();
        await sleep(100);
        await startService();
      }
      await creating;
      expect(jobIds).toHaveLength(12);

      const deadline = Date.now() + 60_000;
      let ends: string[] = [];
      while (Date.now() < deadline) {
        ends = await Promise.all(
          jobIds.map(
            async (jobId) =>
              typesOf(await store.readStream(jobStreamId(jobId))).find((type) => terminal.has(type)) ??
              'open',
          ),
        );
        if (ends.every((end) => end !== 'open')) break;
        await sleep(200);
      }
      mediaRunning = false;
      await media;
      const inspect = new pg.Client({ connectionString: urls.eventStoreUrl });
      await inspect.connect();
      const open = await Promise.all(
        jobIds
          .filter((_, index) => ends[index] === 'open')
          .map(async (jobId) => {
            const work = await inspect.query(
              `select stage, due_at, leased_until, last_position, now() as now from ${schemas.COMMAND_SCHEMA}.job_work where job_id = $1`,
              [jobId],
            );
            const checkpoints = await inspect.query(`select * from ${schemas.COMMAND_SCHEMA}.checkpoints`);
            const events = await store.readStream(jobStreamId(jobId));
            return `${jobId}: ${typesOf(events).join(' → ')} at ${events.map((e) => e.position).join(',')}; work ${JSON.stringify(work.rows)}; checkpoints ${JSON.stringify(checkpoints.rows)}`;
          }),
      );
      await inspect.end();
      expect(unexpectedExits).toEqual([]);
      expect(open).toEqual([]);

      // The audit: a fresh fold of each account equals what the jobs say happened.
      for (const { accountId } of accounts) {
        await expectSettled(accountId);
      }
    },
  );
});

const expectSettled = async (accountId: string) => {
  for (let tries = 0; ; tries += 1) {
    const billing = await store.readStream(billingStreamId(accountId));
    const state = billing.reduce(
      (folded, event) => billingDecider.evolve(folded, event as never),
      billingDecider.initialState(),
    );
    if (state.reserved === 0 || tries > 50) {
      expect(state.reserved).toBe(0);
      const reservations = billing.filter((event) => event.type === 'CreditsReserved');
      let spent = 0;
      for (const reservation of reservations) {
        const jobId = (reservation.data as { jobId: string }).jobId;
        const settlements = billing.filter(
          (event) =>
            (event.type === 'CreditsCaptured' || event.type === 'CreditsReleased') &&
            (event.data as { jobId: string }).jobId === jobId,
        );
        expect(settlements, `job ${jobId} is settled exactly once`).toHaveLength(1);
        const jobTypes = typesOf(await store.readStream(jobStreamId(jobId)));
        expect(settlements[0]?.type).toBe(
          jobTypes.includes('JobCompleted') ? 'CreditsCaptured' : 'CreditsReleased',
        );
        if (settlements[0]?.type === 'CreditsCaptured')
          spent += (reservation.data as { amount: number }).amount;
      }
      expect(state.available + spent).toBe(100);
      return;
    }
    await sleep(200);
  }
};
