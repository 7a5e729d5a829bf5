// billing audit under load: people spend credits (jobs, some cancelled at once) and the admin tops them up
// (each grant sent twice with its idempotency key, as a payment system retrying would), while an operator
// audits every account again and again: the projected balance must equal a fresh fold of the account's
// events at any moment. Once the load is over and every reservation settled, every account of the
// deployment (those of the scenarios run before this one too) is audited a last time.
import { timingThresholds } from './lib/timing.ts';
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { auditAll, audits, auditThresholds, recordAudit, settleAndAudit } from './lib/audit.ts';
import { config, profile } from './lib/config.ts';
import { request } from './lib/http.ts';
import { cancelJob, createJob, jobBody } from './lib/jobs.ts';
import { summaryTrendStats } from './lib/options.ts';
import { signUpUsers, type LoadUser } from './lib/users.ts';

const sizes = profile.audit;
/** A grant retried with its key that was not answered as the first (or was granted twice). */
const idempotencyMismatches = new Counter('idempotency_mismatches');

type Setup = { users: LoadUser[] };

export const options = {
  setupTimeout: '300s',
  teardownTimeout: '300s',
  summaryTrendStats,
  scenarios: {
    spend: {
      executor: 'constant-arrival-rate',
      exec: 'spend',
      rate: sizes.jobsPerSecond,
      timeUnit: '1s',
      duration: `${sizes.seconds}s`,
      preAllocatedVUs: Math.max(2, sizes.jobsPerSecond * 2),
      maxVUs: Math.max(10, sizes.jobsPerSecond * 10),
    },
    topUp: {
      executor: 'constant-arrival-rate',
      exec: 'topUp',
      rate: 1,
      timeUnit: '1s',
      duration: `${sizes.seconds}s`,
      preAllocatedVUs: 2,
      maxVUs: 10,
    },
    // One operator, auditing again a few seconds after each audit ends (an audit of hundreds of
    // accounts takes seconds itself).
    auditor: { executor: 'constant-vus', exec: 'auditor', vus: 1, duration: `${sizes.seconds}s` },
  },
  thresholds: {
    'billing_audits{phase:during}': ['count>0'],
    idempotency_mismatches: ['count==0'],
    unexpected_status: ['count==0'],
    http_req_failed: ['rate<0.01'],
    ...timingThresholds({
      dropped_iterations: ['count==0'],
      'http_req_duration{name:POST /v1/admin/accounts/:id/grants}': ['p(95)<500'],
    }),
    ...auditThresholds,
  },
};

export function setup(): Setup {
  return { users: signUpUsers('audit', sizes.users, 100) };
}

const userOf = (data: Setup, n: number) => data.users[n % data.users.length] as LoadUser;

export function spend(data: Setup): void {
  const n = exec.scenario.iterationInTest;
  const user = userOf(data, n);
  const { accepted } = createJob(user, `${config.runId}-audit-${n}`, jobBody(n));
  if (accepted && n % 3 === 0) cancelJob(user, accepted.jobId);
}

export function topUp(data: Setup): void {
  const n = exec.scenario.iterationInTest;
  const user = userOf(data, n);
  const grant = (name: string) =>
    request({
      method: 'POST',
      url: `${config.commandUrl}/v1/admin/accounts/${user.accountId}/grants`,
      token: config.adminToken,
      name,
      expect: [200],
      headers: { 'idempotency-key': `${config.runId}-top-up-${n}` },
      body: { amount: 5, reason: `top-up ${n} during the audit` },
    });
  grant('POST /v1/admin/accounts/:id/grants');
  const again = grant('POST /v1/admin/accounts/:id/grants (retry)');
  if (again.headers['Idempotent-Replayed'] !== 'true') idempotencyMismatches.add(1);
}

export function auditor(): void {
  audits.add(1, { phase: 'during' });
  recordAudit(auditAll(), 'during');
  sleep(sizes.auditEverySeconds);
}

export function teardown(data: Setup): void {
  settleAndAudit(
    data.users.map((user) => user.accountId),
    120,
    'all',
  );
}
