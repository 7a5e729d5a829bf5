// replay storm: a crowd of clients (say, every browser after a deploy or a network blip) reconnects at
// the same instant, each from an old position of its session's history, several times over. Every one
// must catch up exactly (the events after its position, each once, in order, as the query service's
// timeline has them), and the hub's resident memory must stay within a bound while they do.
import { timingThresholds } from './lib/timing.ts';
import { sleep } from 'k6';
import exec from 'k6/execution';
import { Counter, Gauge, Trend } from 'k6/metrics';
import { clearInterval, setInterval } from 'k6/timers';
import { auditThresholds, settleAndAudit } from './lib/audit.ts';
import { config, profile } from './lib/config.ts';
import { readHubRss } from './lib/hubMemory.ts';
import { buildHistory, readTimeline, type TruthEntry } from './lib/history.ts';
import { summaryTrendStats } from './lib/options.ts';
import { compareWithTruth } from './lib/sequence.ts';
import { openSessions } from './lib/sessions.ts';
import { signUpUsers, type LoadUser } from './lib/users.ts';
import { watchTopic } from './lib/watch.ts';

const sizes = profile.replay;
const clients = sizes.sessions * sizes.clientsPerSession;
const MiB = 1024 * 1024;
/** How long a client may take to catch up before it counts as incomplete. */
const CATCH_UP_TIMEOUT_MS = 20_000;
/** Caught up, a client listens this much longer for anything extra (a duplicate, an event too many). */
const LINGER_MS = 300;

const catchUpTime = new Trend('replay_catchup_time', true);
const eventsReceived = new Counter('replay_events_received');
const catchUps = new Counter('replay_catchups');
const missed = new Counter('replay_missed');
const duplicated = new Counter('replay_duplicated');
const outOfOrder = new Counter('replay_out_of_order');
const unexpected = new Counter('replay_unexpected');
const incomplete = new Counter('replay_incomplete');
/** The subscribe ack said it would replay another number of events than the history has after it. */
const ackMismatches = new Counter('replay_ack_mismatches');
const rss = new Gauge('hub_rss_bytes');
const rssGrowth = new Trend('hub_rss_growth_bytes');

type Session = { sessionId: string; members: number[]; truth: TruthEntry[] };
type Setup = { users: LoadUser[]; sessions: Session[]; stormAt: number; baselineRss: number };

const stormSeconds = sizes.rounds * sizes.roundGapSeconds;

export const options = {
  setupTimeout: '300s',
  teardownTimeout: '300s',
  summaryTrendStats,
  scenarios: {
    storm: {
      executor: 'per-vu-iterations',
      exec: 'storm',
      vus: clients,
      iterations: sizes.rounds,
      maxDuration: `${stormSeconds + 60}s`,
    },
    memory: {
      executor: 'constant-arrival-rate',
      exec: 'memory',
      rate: 2,
      timeUnit: '1s',
      duration: `${stormSeconds + 5}s`,
      preAllocatedVUs: 1,
      maxVUs: 4,
    },
  },
  thresholds: {
    replay_catchups: [`count==${clients * sizes.rounds}`],
    replay_missed: ['count==0'],
    replay_duplicated: ['count==0'],
    replay_out_of_order: ['count==0'],
    replay_unexpected: ['count==0'],
    replay_incomplete: ['count==0'],
    replay_ack_mismatches: ['count==0'],
    session_jobs_lost: ['count==0'],
    ...timingThresholds({ replay_catchup_time: ['p(95)<5000'] }),
    hub_rss_growth_bytes: [`max<${sizes.maxRssGrowthMiB * MiB}`],
    socket_failures: ['count==0'],
    socket_resyncs: ['count==0'],
    unexpected_status: ['count==0'],
    http_req_failed: ['rate<0.01'],
    ...auditThresholds,
  },
};

export function setup(): Setup {
  const users = signUpUsers('replay', clients, 50);
  const sessions = openSessions(users, sizes.sessions, sizes.clientsPerSession);
  buildHistory(users, sessions, { jobsPerSession: sizes.jobsPerSession, churn: sizes.churnPerMember });
  const withTruth = sessions.map((session) => {
    const owner = users[session.members[0] ?? 0] as LoadUser;
    return { sessionId: session.sessionId, members: session.members, truth: readTimeline(owner, session) };
  });
  const baselineRss = readHubRss() ?? 0;
  return { users, sessions: withTruth, stormAt: Date.now() + 2_000, baselineRss };
}

// A VU is one client throughout: its first iteration names it.
let clientIndex = -1;

/** Where a client comes back from in a round: anywhere in the history, its very start included. */
const resumeIndex = (client: number, round: number, length: number) =>
  (client * 7919 + round * 104729) % Math.max(1, length - 1);

export function storm(data: Setup): void {
  if (clientIndex < 0) clientIndex = exec.scenario.iterationInTest % clients;
  const round = exec.vu.iterationInScenario;
  const session = data.sessions[Math.floor(clientIndex / sizes.clientsPerSession)] as Session;
  const user = data.users[session.members[clientIndex % sizes.clientsPerSession] ?? 0] as LoadUser;
  const wait = data.stormAt + round * sizes.roundGapSeconds * 1000 - Date.now();
  if (wait > 0) sleep(wait / 1000);

  const from = resumeIndex(clientIndex, round, session.truth.length);
  const after = session.truth[from]?.[0] ?? '';
  const expected = session.truth.slice(from + 1).map(([, id]) => id);
  const received: string[] = [];
  const started = Date.now();
  let caughtUpAt = 0;
  let promised = -1;
  const watching = watchTopic({
    token: user.token,
    topic: { kind: 'session', sessionId: session.sessionId },
    after,
    dropOne: config.fault === 'drop-event' && clientIndex === 0 && round === 0,
    tags: { scenario: 'replay' },
    onSubscribed: (resumed) => (promised = resumed?.mode === 'replay' ? resumed.events : -1),
    onEvent: (event) => {
      received.push(event.id);
      if (received.length === expected.length) caughtUpAt = Date.now();
    },
  });
  const waiting = setInterval(() => {
    const now = Date.now();
    const done = caughtUpAt > 0 && now - caughtUpAt > LINGER_MS;
    if (!done && now - started < CATCH_UP_TIMEOUT_MS && !watching.isClosed()) return;
    clearInterval(waiting);
    watching.close();
    eventsReceived.add(received.length);
    const comparison = compareWithTruth(received, expected);
    missed.add(comparison.missed);
    duplicated.add(comparison.duplicated);
    outOfOrder.add(comparison.outOfOrder);
    unexpected.add(comparison.unexpected);
    if (promised !== expected.length) ackMismatches.add(1);
    if (caughtUpAt > 0) catchUpTime.add(caughtUpAt - started);
    else incomplete.add(1);
    catchUps.add(1);
  }, 50);
}

export function memory(data: Setup): void {
  const bytes = readHubRss();
  if (bytes === undefined) return;
  rss.add(bytes);
  rssGrowth.add(bytes - data.baselineRss);
}

export function teardown(data: Setup): void {
  settleAndAudit(
    data.users.map((user) => user.accountId),
    60,
  );
}
