// commands: people asking for jobs at a steady rate, each with its idempotency key (and some retrying
// it, as a client does after a lost answer), cancelling some, reading their own writes and their lists;
// beside them one greedy user past the job-creation limits (429) and one without credits (402). After
// the load, every account touched is audited once every reservation has been captured or released.
import { timingThresholds } from './lib/timing.ts';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { auditThresholds, settleAndAudit } from './lib/audit.ts';
import { config, profile } from './lib/config.ts';
import { dataOf, expectedRefusals, request, textOf, type Answer } from './lib/http.ts';
import { cancelJob, createJob, jobBody } from './lib/jobs.ts';
import { summaryTrendStats } from './lib/options.ts';
import { grantCredits, signUpUsers, type LoadUser } from './lib/users.ts';

const sizes = profile.commands;
/** A retry with the same key that was not answered with the first answer (or charged again). */
const idempotencyMismatches = new Counter('idempotency_mismatches');
/** A 402 or 429 without what it must carry (the error code; `Retry-After` on a 429). */
const malformedRefusals = new Counter('malformed_refusals');
/** A read of one's own job, after its position, that answered another job or none. */
const staleReads = new Counter('stale_reads');
/**
 * A retry of an accepted job creation (same key, same body) refused, rather than answered with the
 * first answer: the client that lost its answer cannot learn it was accepted.
 */
const replaysRefused = new Counter('replays_refused');

/** The greedy user's first job, accepted in the set-up: its retries must always get its first answer. */
type FirstJob = { key: string; seed: number; jobId: string };
type Setup = { users: LoadUser[]; greedy: LoadUser; broke: LoadUser; greedyFirst: FirstJob };

const steady = (exec: string, rate: number, seconds: number) => ({
  executor: 'constant-arrival-rate',
  exec,
  rate,
  timeUnit: '1s',
  duration: `${seconds}s`,
  preAllocatedVUs: Math.max(2, Math.ceil(rate * 2)),
  maxVUs: Math.max(10, rate * 10),
});

export const options = {
  setupTimeout: '300s',
  teardownTimeout: '300s',
  summaryTrendStats,
  scenarios: {
    create: steady('create', sizes.jobsPerSecond, sizes.seconds),
    read: steady('read', sizes.readsPerSecond, sizes.seconds),
    limits: steady('limits', 3, sizes.seconds),
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    ...timingThresholds({
      'http_req_duration{name:POST /v1/jobs}': ['p(95)<500'],
      'http_req_duration{name:POST /v1/jobs (retry)}': ['p(95)<500'],
      'http_req_duration{name:POST /v1/jobs/:id/cancel}': ['p(95)<500'],
      'http_req_duration{name:GET /v1/jobs/:id?after}': ['p(95)<1500'],
      'http_req_duration{kind:read}': ['p(95)<300'],
      dropped_iterations: ['count==0'],
    }),
    unexpected_status: ['count==0'],
    idempotency_mismatches: ['count==0'],
    malformed_refusals: ['count==0'],
    stale_reads: ['count==0'],
    replays_refused: ['count==0'],
    'expected_refusals{status:402}': ['count>0'],
    'expected_refusals{status:429}': ['count>0'],
    ...auditThresholds,
  },
};

export function setup(): Setup {
  const users = signUpUsers('commands', sizes.users + 2, 0);
  const greedy = users[sizes.users] as LoadUser;
  const broke = users[sizes.users + 1] as LoadUser;
  // Everyone but the broke one gets credits (one grant each, with its idempotency key).
  grantCredits(users.slice(0, sizes.users + 1), 1_000, 'commands');
  const first = { key: `${config.runId}-greedy-first`, seed: 1 };
  const { accepted } = createJob(greedy, first.key, jobBody(first.seed), { name: 'POST /v1/jobs (greedy)' });
  if (!accepted) throw new Error("the greedy user's first job was not accepted");
  return {
    users: users.slice(0, sizes.users),
    greedy,
    broke,
    greedyFirst: { ...first, jobId: accepted.jobId },
  };
}

const userOf = (data: Setup, n: number): LoadUser => data.users[n % data.users.length] as LoadUser;

export function create(data: Setup): void {
  const n = exec.scenario.iterationInTest;
  const user = userOf(data, n);
  // Each user's own jobs take turns: one in five is retried, one in four cancelled.
  const turn = Math.floor(n / data.users.length) + (n % data.users.length);
  const key = `${config.runId}-commands-${n}`;
  const body = jobBody(n);
  const { accepted } = createJob(user, key, body);
  if (!accepted) return;
  if (turn % 5 === 0) {
    // The answer was lost: the client asks again with the same key and must get the first answer.
    const retry = createJob(user, key, body, { name: 'POST /v1/jobs (retry)' });
    const replayed = retry.answer.headers['Idempotent-Replayed'] === 'true';
    if (!replayed || retry.accepted?.jobId !== accepted.jobId) idempotencyMismatches.add(1);
  }
  if (turn % 4 === 1) cancelJob(user, accepted.jobId);
  const read = request({
    method: 'GET',
    url: `${config.queryUrl}/v1/jobs/${accepted.jobId}?after=${accepted.position}`,
    token: user.token,
    name: 'GET /v1/jobs/:id?after',
    expect: [200],
  });
  if (read.status === 200 && dataOf<{ jobId: string }>(read)?.jobId !== accepted.jobId) staleReads.add(1);
}

export function read(data: Setup): void {
  const n = exec.scenario.iterationInTest;
  const user = userOf(data, n);
  const reads = [
    ['/v1/jobs?limit=20', 'GET /v1/jobs'],
    ['/v1/accounts/me/balance', 'GET /v1/accounts/me/balance'],
    ['/v1/accounts/me/ledger?limit=20', 'GET /v1/accounts/me/ledger'],
  ] as const;
  const [path, name] = reads[n % reads.length] ?? reads[0];
  request({
    method: 'GET',
    url: `${config.queryUrl}${path}`,
    token: user.token,
    name,
    expect: [200],
    tags: { kind: 'read' },
  });
}

const refusalOf = (answer: Answer) => {
  try {
    return (answer.json() as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
};

/** A refusal the scenario asked for: counted by status, and checked for what it must say. */
const refused = (answer: Answer, codes: string[]) => {
  if (answer.status !== 402 && answer.status !== 429) return;
  expectedRefusals.add(1, { status: String(answer.status) });
  const wellFormed =
    codes.includes(refusalOf(answer) ?? '') && (answer.status !== 429 || !!answer.headers['Retry-After']);
  if (!wellFormed) {
    malformedRefusals.add(1);
    console.warn(`a malformed ${answer.status}: ${JSON.stringify(answer.headers)} ${textOf(answer)}`);
  }
};

export function limits(data: Setup): void {
  const n = exec.scenario.iterationInTest;
  const key = `${config.runId}-limits-${n}`;
  if (n % 2 === 0) {
    // More than 5 creations a minute, and more than 5 jobs at once: 429 with Retry-After.
    const { answer } = createJob(data.greedy, key, jobBody(n), {
      expect: [202, 429],
      name: 'POST /v1/jobs (greedy)',
    });
    refused(answer, ['rate_limited', 'too_many_active_jobs']);
    if (answer.status !== 429) return;
    // Past the limit, a retry of the job accepted before still gets its first answer: it creates nothing.
    const first = data.greedyFirst;
    const retry = createJob(data.greedy, first.key, jobBody(first.seed), {
      expect: [202, 429],
      name: 'POST /v1/jobs (greedy retry)',
    });
    if (retry.answer.status !== 202 || retry.accepted?.jobId !== first.jobId) {
      replaysRefused.add(1);
      if (n < 20) console.warn(`a retry past the limit: ${retry.answer.status} ${textOf(retry.answer)}`);
    }
  } else {
    // No credits: 402 with the shortfall, until the creation limit answers 429 first.
    const { answer } = createJob(data.broke, key, jobBody(n), {
      expect: [402, 429],
      name: 'POST /v1/jobs (broke)',
    });
    refused(answer, ['insufficient_credits', 'rate_limited']);
  }
}

export function teardown(data: Setup): void {
  settleAndAudit(
    [...data.users, data.greedy, data.broke].map((user) => user.accountId),
    120,
  );
}
