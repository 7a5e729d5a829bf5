#!/usr/bin/env node
// Job creations per second end to end over HTTP (the real service in its own process, keep-alive, a
// realistic body, signed-in users, every middleware on), side by side in one run with the event store's
// raw appends of what a job creation stores (a CreditsReserved and a JobRequested) at the same
// concurrency; then p50/p99 at half the max rate. The process managers are off in the service, so nothing
// but the requests (no provider rendering the jobs) shares the CPU with the measurement.
// EVENTSTORE_URL, DATABASE_URL and REDIS_URL name the servers when set; else the local test stack is used.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { newEventId } from '@kiln/contracts/event-ids';
import type { KilnEvent } from '@kiln/contracts/events';
import { openEventStore } from '@kiln/event-store/open';
import { printTable, saveResults, type BenchRow } from '@kiln/stack/bench';
import { ensureStack, profileUrls, testEnv } from '@kiln/stack/testing';

const seconds = Number(process.env['BENCH_SECONDS'] ?? 10);
const connections = Number(process.env['BENCH_CONNECTIONS'] ?? 16);
const userCount = 32;
if (!process.env['EVENTSTORE_URL'] || !process.env['REDIS_URL']) await ensureStack('test');
const urls = testEnv();
const isPostgres = (url: string) => /^postgres(ql)?:\/\//.test(url);
const databaseUrl =
  process.env['DATABASE_URL'] ||
  (isPostgres(urls.eventStoreUrl) ? urls.eventStoreUrl : profileUrls('test').eventStoreUrl);
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const schemas = {
  EVENTSTORE_SCHEMA: `es_bench_${run}`,
  IDENTITY_SCHEMA: `id_bench_${run}`,
  COMMAND_SCHEMA: `cmd_bench_${run}`,
};
const admin = { email: 'bench-admin@kiln.test', password: `bench-${randomUUID()}` };
const mediaDir = await mkdtemp(join(tmpdir(), 'kiln-bench-'));

const freePort = () =>
  new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const profileFlags = process.env['BENCH_PROFILE_DIR']
  ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`]
  : [];
const service = spawn(process.execPath, [...profileFlags, 'src/main.ts'], {
  env: {
    ...process.env,
    PORT: String(port),
    EVENTSTORE_URL: urls.eventStoreUrl,
    DATABASE_URL: databaseUrl,
    REDIS_URL: urls.redisUrl,
    REDIS_PREFIX: `bench-${run}`,
    MEDIA_DIR: mediaDir,
    PAYMENT_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    SEED_ADMIN_EMAIL: admin.email,
    SEED_ADMIN_PASSWORD: admin.password,
    LOG_LEVEL: 'warn',
    MAX_ACTIVE_JOBS: '100000000',
    API_REQUESTS_PER_MINUTE: '100000000',
    JOB_CREATIONS_PER_MINUTE: '100000000',
    PROCESS_MANAGERS: 'false',
    ...schemas,
  },
  stdio: ['ignore', 'inherit', 'inherit'],
});
for (let tries = 0; ; tries += 1) {
  const ready = await fetch(`${base}/readyz`).catch(() => undefined);
  if (ready?.ok) break;
  if (tries > 100) throw new Error('the command service did not become ready');
  await new Promise((resolve) => setTimeout(resolve, 100));
}

const call = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return {
    cookie: response.headers.get('set-cookie')?.split(';')[0] ?? '',
    body: (await response.json()) as { data: { user?: { accountId: string } } },
  };
};
const adminCookie = (await call('/v1/accounts/sign-in', admin)).cookie;
const users: { cookie: string }[] = [];
for (let index = 0; index < userCount; index += 1) {
  const signedUp = await call('/v1/accounts/sign-up', {
    email: `bench-${run}-${index}@kiln.test`,
    password: `pw-${randomUUID()}`,
    displayName: `Bench ${index}`,
  });
  const accountId = signedUp.body.data.user?.accountId ?? '';
  await call(
    `/v1/admin/accounts/${accountId}/grants`,
    { amount: 100_000_000, reason: 'bench credits' },
    { cookie: adminCookie, 'idempotency-key': randomUUID() },
  );
  users.push({ cookie: signedUp.cookie });
}

const jobRequest = {
  kind: 'image',
  modelId: 'kiln-local-image',
  prompt: 'a wood-fired kiln at dusk, embers glowing through the spy hole, 35mm film, shallow depth of field',
  negativePrompt: 'blurry, text, watermark',
  width: 1024,
  height: 768,
  count: 2,
  seed: 421337,
} as const;
const body = JSON.stringify({ request: jobRequest });

let sent = 0;
const load = (options: { duration: number; overallRate?: number }) =>
  autocannon({
    url: base,
    connections,
    duration: options.duration,
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
    requests: [
      {
        method: 'POST',
        path: '/v1/jobs',
        setupRequest: (request) => ({
          ...request,
          headers: {
            'content-type': 'application/json',
            cookie: users[sent++ % users.length]!.cookie,
            'idempotency-key': randomUUID(),
          },
          body,
        }),
      },
    ],
  });
const failuresOf = (result: autocannon.Result) => result.non2xx + result.errors + result.timeouts;

/** The same storage work without HTTP, auth, limits, idempotency records or deciders: two appends a job. */
const store = await openEventStore<KilnEvent>(urls.eventStoreUrl, {
  schema: schemas.EVENTSTORE_SCHEMA,
  maxConnections: connections,
});
const rawAppends = async () => {
  const until = performance.now() + seconds * 1000;
  let jobs = 0;
  const began = performance.now();
  await Promise.all(
    Array.from({ length: connections }, async (_, lane) => {
      // Accounts of their own, so this phase does not lengthen the billing streams the HTTP phases use.
      const user = { id: `raw_${lane}_${run}`, accountId: `raw_${lane}_${run}` };
      const metadata = {
        correlationId: 'bench',
        causationId: null,
        actor: { kind: 'user', id: user.id },
        at: new Date().toISOString(),
      } as const;
      while (performance.now() < until) {
        const jobId = `bench_${randomUUID().replaceAll('-', '')}`;
        await store.appendToStream(`billing-${user.accountId}`, [
          {
            id: newEventId(),
            type: 'CreditsReserved',
            data: { accountId: user.accountId, jobId, amount: 6 },
            metadata,
          },
        ]);
        await store.appendToStream(
          `job-${jobId}`,
          [
            {
              id: newEventId(),
              type: 'JobRequested',
              data: {
                jobId,
                accountId: user.accountId,
                userId: user.id,
                request: jobRequest,
                inputs: [],
                cost: 6,
                deadline: new Date(Date.now() + 120_000).toISOString(),
              },
              metadata,
            },
          ],
          { expectedRevision: 'no_stream' },
        );
        jobs += 1;
      }
    }),
  );
  return jobs / ((performance.now() - began) / 1000);
};

/** CPU seconds the service has used (Linux), to tell its own cost per job from a busy machine's. */
const serviceCpuSeconds = async (): Promise<number | undefined> => {
  const stat = await readFile(`/proc/${service.pid}/stat`, 'utf8').catch(() => undefined);
  const [utime, stime] =
    stat
      ?.slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .slice(11, 13)
      .map(Number) ?? [];
  return utime === undefined || stime === undefined ? undefined : (utime + stime) / 100;
};

await load({ duration: 2 }); // warm-up: JIT, connection pools, prepared statements
const cpuBefore = await serviceCpuSeconds();
const max = await load({ duration: seconds });
const cpuAfter = await serviceCpuSeconds();
const raw = await rawAppends();
const halfRate = Math.max(1, Math.floor(max.requests.average / 2));
const atHalf = await load({ duration: seconds, overallRate: halfRate });

const rows: BenchRow[] = [
  {
    path: `job creation over HTTP, ${connections} connections (2 appends + auth, limits, idempotency)`,
    unit: 'jobs/s',
    kiln: max.requests.average,
    baseline: raw,
    baselineName: 'raw appends of the same 2 events',
  },
];
printTable('command service', rows);
console.log(
  `failed requests: ${failuresOf(max)} at max, ${failuresOf(atHalf)} at half rate\n` +
    `latency at half the max rate (${halfRate} jobs/s): p50 ${atHalf.latency.p50} ms, p99 ${atHalf.latency.p99} ms` +
    ` (at max: p50 ${max.latency.p50} ms, p99 ${max.latency.p99} ms)`,
);
if (cpuBefore !== undefined && cpuAfter !== undefined) {
  const perJob = ((cpuAfter - cpuBefore) * 1000) / Math.max(1, max.requests.total);
  console.log(`service CPU per job at max: ${perJob.toFixed(2)} ms`);
}
await saveResults('command-service', rows);

service.kill('SIGTERM');
await new Promise((resolve) => service.once('exit', resolve));
await store.close();
const dropSchemas = async (url: string, names: string[]) => {
  const cleanup = new pg.Client({ connectionString: url });
  await cleanup.connect();
  for (const schema of names) await cleanup.query(`drop schema if exists ${schema} cascade`);
  await cleanup.end();
};
await dropSchemas(databaseUrl, [schemas.IDENTITY_SCHEMA, schemas.COMMAND_SCHEMA]);
if (isPostgres(urls.eventStoreUrl)) await dropSchemas(urls.eventStoreUrl, [schemas.EVENTSTORE_SCHEMA]);
await rm(mediaDir, { recursive: true, force: true });
if (failuresOf(max) + failuresOf(atHalf) > 0) process.exitCode = 1;
