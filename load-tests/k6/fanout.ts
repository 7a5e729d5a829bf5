// fan-out: teams in shared sessions, every member watching the session on a WebSocket (Socket.IO over
// Engine.IO, spoken by hand) while the members keep asking for jobs in it. Each delivery is timed from
// its append (the event's `recordedAt`, the store's clock) to its arrival; each watcher then checks what
// it got against the session's timeline from the query service: every event once, in order, none missing.
import { timingThresholds } from './lib/timing.ts';
import exec from 'k6/execution';
import { Counter, Trend } from 'k6/metrics';
import { clearInterval, setInterval } from 'k6/timers';
import { auditThresholds, settleAndAudit, waitForProjections } from './lib/audit.ts';
import { config, profile } from './lib/config.ts';
import { dataOf, request } from './lib/http.ts';
import { createJob, jobBody, JOB_TERMINAL_TYPES } from './lib/jobs.ts';
import { summaryTrendStats } from './lib/options.ts';
import { createSequence } from './lib/sequence.ts';
import { checkSessionJobs, jobsOfUsers, openSessions, type LoadSession } from './lib/sessions.ts';
import { signUpUsers, type LoadUser } from './lib/users.ts';
import { watchTopic } from './lib/watch.ts';

const sizes = profile.fanout;
const watchers = sizes.sessions * sizes.watchersPerSession;
/** Watchers connect first; the jobs start this long after. */
const PRODUCE_AFTER_SECONDS = 3;
/** A session is quiet once its jobs have all finished and nothing came for this long. */
const QUIET_MS = 2_000;

const deliveryLatency = new Trend('delivery_latency', true);
const eventsReceived = new Counter('events_received');
const missed = new Counter('fanout_missed');
const duplicated = new Counter('fanout_duplicated');
const outOfOrder = new Counter('fanout_out_of_order');
const unexpected = new Counter('fanout_unexpected');
/** A watcher whose session's jobs had not all finished by its deadline. */
const unsettled = new Counter('fanout_unsettled');
const verified = new Counter('fanout_watchers_verified');

type Setup = { users: LoadUser[]; sessions: LoadSession[] };

export const options = {
  setupTimeout: '300s',
  teardownTimeout: '300s',
  summaryTrendStats,
  scenarios: {
    watch: {
      executor: 'per-vu-iterations',
      exec: 'watch',
      vus: watchers,
      iterations: 1,
      maxDuration: `${PRODUCE_AFTER_SECONDS + sizes.seconds + sizes.settleSeconds + 60}s`,
    },
    produce: {
      executor: 'constant-arrival-rate',
      exec: 'produce',
      startTime: `${PRODUCE_AFTER_SECONDS}s`,
      rate: sizes.jobsPerSecond,
      timeUnit: '1s',
      duration: `${sizes.seconds}s`,
      preAllocatedVUs: Math.max(2, sizes.jobsPerSecond * 2),
      maxVUs: Math.max(10, sizes.jobsPerSecond * 10),
    },
  },
  thresholds: {
    ...timingThresholds({ delivery_latency: ['p(95)<500', 'p(99)<1000'] }),
    events_received: ['count>0'],
    fanout_missed: ['count==0'],
    fanout_duplicated: ['count==0'],
    fanout_out_of_order: ['count==0'],
    fanout_unexpected: ['count==0'],
    fanout_unsettled: ['count==0'],
    session_jobs_lost: ['count==0'],
    fanout_watchers_verified: [`count==${watchers}`],
    socket_failures: ['count==0'],
    socket_resyncs: ['count==0'],
    ...timingThresholds({ dropped_iterations: ['count==0'] }),
    unexpected_status: ['count==0'],
    http_req_failed: ['rate<0.01'],
    ...timingThresholds({ 'http_req_duration{name:POST /v1/jobs (session)}': ['p(95)<500'] }),
    ...auditThresholds,
  },
};

export function setup(): Setup {
  const users = signUpUsers('fanout', watchers, 200);
  return { users, sessions: openSessions(users, sizes.sessions, sizes.watchersPerSession) };
}

/** The members take turns: each asks for at most one job a minute (the limit is five). */
export function produce(data: Setup): void {
  const n = exec.scenario.iterationInTest;
  const session = data.sessions[n % data.sessions.length] as LoadSession;
  const member = session.members[Math.floor(n / data.sessions.length) % session.members.length] ?? 0;
  const user = data.users[member] as LoadUser;
  createJob(user, `${config.runId}-fanout-${n}`, jobBody(n, session.sessionId), {
    name: 'POST /v1/jobs (session)',
    retryConflicts: true,
  });
}

/**
 * How many events the session's timeline has after the watcher's position (the query service reads
 * them from the store): its total less the first few, those appended with the session's opening.
 */
const truthCount = (user: LoadUser, session: LoadSession): number | undefined => {
  const page = dataOf<{ items: Array<{ event: { position: string } }>; total: number; truncated: boolean }>(
    request({
      method: 'GET',
      url: `${config.queryUrl}/v1/sessions/${session.sessionId}/timeline?limit=10`,
      token: user.token,
      name: 'GET /v1/sessions/:id/timeline',
      expect: [200],
    }),
  );
  const before = page?.items.filter(({ event }) => event.position <= session.openedAt).length ?? 0;
  if (!page || page.truncated || before === 0 || before === page.items.length) {
    console.warn(
      `no usable timeline for session ${session.sessionId}: ${JSON.stringify(page).slice(0, 300)}`,
    );
    return undefined;
  }
  return page.total - before;
};

export function watch(data: Setup): void {
  const index = exec.scenario.iterationInTest;
  const session = data.sessions[Math.floor(index / sizes.watchersPerSession)] as LoadSession;
  const user = data.users[session.members[index % sizes.watchersPerSession] ?? 0] as LoadUser;
  const sequence = createSequence();
  const finished = new Map<string, boolean>();
  let lastEventAt = Date.now();
  const produceEnd = exec.scenario.startTime + (PRODUCE_AFTER_SECONDS + sizes.seconds) * 1000;
  const deadline = produceEnd + sizes.settleSeconds * 1000;

  const watching = watchTopic({
    token: user.token,
    topic: { kind: 'session', sessionId: session.sessionId },
    after: session.openedAt,
    dropOne: config.fault === 'drop-event' && index === 0,
    tags: { scenario: 'fanout' },
    onEvent: (event, live, receivedAt) => {
      lastEventAt = Date.now();
      eventsReceived.add(1, { live: String(live) });
      if (live) deliveryLatency.add(receivedAt - Date.parse(event.recordedAt));
      const verdict = sequence.add(event);
      if (verdict !== 'ok') console.warn(`${verdict}: ${event.id} at ${event.position} (${event.type})`);
      if (event.type === 'SessionJobAdded') {
        const jobId = String(event.data['jobId']);
        finished.set(jobId, finished.get(jobId) ?? false);
      } else if (event.streamId.startsWith('job-') && JOB_TERMINAL_TYPES.includes(event.type)) {
        finished.set(event.streamId.slice('job-'.length), true);
      }
    },
  });

  const waiting = setInterval(() => {
    const now = Date.now();
    const settled = now > produceEnd && [...finished.values()].every(Boolean) && now - lastEventAt > QUIET_MS;
    if (!settled && now < deadline && !watching.isClosed()) return;
    clearInterval(waiting);
    watching.close();
    if (!settled) unsettled.add(1);
    const expected = truthCount(user, session);
    if (expected === undefined) return;
    const unique = sequence.unique();
    missed.add(Math.max(expected - unique, sequence.gaps()));
    unexpected.add(Math.max(0, unique - expected));
    duplicated.add(sequence.duplicates());
    outOfOrder.add(sequence.outOfOrder());
    verified.add(1);
  }, 250);
}

export function teardown(data: Setup): void {
  waitForProjections(60);
  for (const session of data.sessions) {
    const members = session.members.map((member) => data.users[member] as LoadUser);
    checkSessionJobs(members[0] as LoadUser, session.sessionId, jobsOfUsers(members));
  }
  settleAndAudit(
    data.users.map((user) => user.accountId),
    120,
  );
}
